/** Everything read from the environment, read once, here. */
export interface Config {
  readonly port: number;
  readonly logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  return Object.freeze({ port, logLevel: env.LOG_LEVEL ?? 'info' });
}
