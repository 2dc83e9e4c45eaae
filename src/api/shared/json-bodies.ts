import { errorCodes, type FastifyInstance } from 'fastify';

/**
 * Request bodies are JSON, and an empty body is no body whatever type it is labelled with.
 *
 * Clients send operations that take no body with every kind of label: axios-generated clients
 * `application/x-www-form-urlencoded` with `Content-Length: 0`, others `text/plain` or
 * `application/json` with nothing after it. Refusing the label would make those operations
 * uncallable from them, and a route that needs a body still refuses the missing one through its
 * schema, as the dialect's field error. A body that is not empty and not JSON is 415: it is never
 * handed to a route as a string to validate.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else void parseJson(request, text, done);
  });
  // Every other type, and a body sent with none. Read (up to the body limit) rather than refused
  // on its headers, because a chunked body may turn out to be empty.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    // A path that names nothing is the dialect's 404, whatever its body.
    if (body.length === 0 || request.is404) done(null, undefined);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
  });
}
