/**
 * Whether Testcontainers can start containers here, and if not, why: the suites that need a Docker engine run
 * where one answers and report themselves skipped with this reason elsewhere (this machine has a `docker` client
 * but no engine).
 */
import { existsSync } from 'node:fs';
import { which } from '../../services/dev/servers.ts';

export type Engine = { ok: true; host: string } | { ok: false; reason: string };

export async function dockerEngine(): Promise<Engine> {
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
  } catch (err) {
    // Its HTTP client (undici) needs Node 22 or later: under an older node the module does not even load.
    return { ok: false, reason: `testcontainers does not load on Node ${process.version} (${(err as Error).message.split('\n')[0]})` };
  }
  try {
    const client = await tc.getContainerRuntimeClient();
    return { ok: true, host: client.info.containerRuntime.host };
  } catch (err) {
    const where = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST} does not answer` : existsSync('/var/run/docker.sock') ? '/var/run/docker.sock does not answer' : 'DOCKER_HOST unset and no /var/run/docker.sock';
    const cli = which('docker', ['/usr/local/bin', '/usr/bin']);
    return { ok: false, reason: `no Docker engine: ${where}${cli ? ` (a docker client is at ${cli}, with no engine behind it)` : ''}; Testcontainers: ${(err as Error).message}` };
  }
}
