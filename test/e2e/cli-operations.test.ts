import { describeCliOperations } from '../helpers/cli-operations-suite.js';

/** The CLI's operations inside WordPress, on installs whose database is SQLite. */
describeCliOperations('SQLite');
