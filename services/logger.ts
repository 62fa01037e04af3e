import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets never reach them: configuration is logged only through describe()/redactUrl(),
 * and these paths are censored in case an object carrying them is logged by mistake.
 */
export function createLogger(level: string, name = 'veilleur'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'headers.authorization', '*.headers.authorization', 'req.headers.authorization', 'req.headers["x-api-key"]', 'headers["x-api-key"]'],
      censor: '***',
    },
  });
}
