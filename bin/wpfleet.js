#!/usr/bin/env node
// The compiled entry point; `npm install` builds dist/ through the `prepare` script.
import '../dist/main.js';
