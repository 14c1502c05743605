// obsim: an OceanBase simulator speaking the MySQL protocol and the backup SQL of 3.x and 4.x.
import { parseArgs } from 'node:util';
import { startObSim } from './index.js';

const usage = `usage: obsim --ob-version 4.2.1|3.2.4 [--port 2881] [--password PW] [--tenants t1,t2] [--data-dir DIR] [--time-scale N]`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'ob-version': { type: 'string' },
        port: { type: 'string', default: '2881' },
        host: { type: 'string', default: '127.0.0.1' },
        password: { type: 'string', default: '' },
        tenants: { type: 'string', default: '' },
        'data-dir': { type: 'string' },
        'time-scale': { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`obsim: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const version = values['ob-version'];
  if (!version) {
    console.error(`obsim: --ob-version is required\n${usage}`);
    process.exit(2);
  }
  const port = Number(values.port);
  const timeScale = Number(values['time-scale']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`obsim: --port must be a port number, got '${values.port}'`);
    process.exit(2);
  }
  if (!Number.isFinite(timeScale) || timeScale < 0) {
    console.error(`obsim: --time-scale must be a number >= 0, got '${values['time-scale']}'`);
    process.exit(2);
  }
  let sim;
  try {
    sim = await startObSim({
      obVersion: version,
      port,
      host: values.host,
      password: values.password,
      tenants: values.tenants.split(',').map((t) => t.trim()).filter(Boolean),
      dataDir: values['data-dir'],
      timeScale,
    });
  } catch (e) {
    console.error(`obsim: ${(e as Error).message}`);
    process.exit(1);
  }
  const tenants = sim.cluster.userTenants().map((t) => `${t.name}(${t.id})`).join(', ') || 'none';
  console.log(`obsim: OceanBase ${sim.version} listening on ${sim.host}:${sim.port} (user root@sys; tenants: ${tenants}; time x${timeScale}${values['data-dir'] ? `; state in ${values['data-dir']}` : ''})`);
  const shutdown = async () => {
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

await main();
