import { execFileSync } from 'node:child_process';
import path from 'node:path';

// The child of a spawn without env options gets libc's `environ` as it is at the call (linux-backend's
// 'parent' env). Jest replaces process.env with a proxy, which takes the other path: so this runs in
// a plain Node process, on the built packages, started on and off the event loop.
const core = path.resolve(__dirname, '../../../core/dist/index.js');
const dist = path.resolve(__dirname, '../../dist/index.js');

test('without env options the child sees process.env as it is at each call, on and off the loop', () => {
  const script = `
    const { forkBeforeExec } = await import(${JSON.stringify(core)});
    const { backend } = await import(${JSON.stringify(dist)});
    const key = 'FORKEXEC_ENVIRON_TEST';
    const results = [];
    for (const startOffLoop of [true, false]) {
      const env = async (name) => (await forkBeforeExec('/bin/sh', ['-c', 'printf %s "\${' + name + '-<unset>}"'], { backend, startOffLoop })).stdout;
      const count = async () => Number((await forkBeforeExec('/bin/sh', ['-c', 'env | grep -c ='], { backend, startOffLoop })).stdout);
      process.env[key] = 'one';
      results.push(await env(key));
      process.env[key] = 'two';
      results.push(await env(key));
      process.env[key] = 'one';
      results.push(await env(key));
      for (let i = 0; i < 100; i++) process.env[key + '_' + i] = String(i); // environ grows and moves
      results.push(await env(key + '_99'));
      const atCall = forkBeforeExec('/bin/sh', ['-c', 'printf %s "$' + key + '"'], { backend, startOffLoop });
      process.env[key] = 'after the call';
      for (let i = 100; i < 200; i++) process.env[key + '_' + i] = String(i);
      results.push((await atCall).stdout);
      delete process.env[key];
      results.push(await env(key));
      results.push(String((await count()) >= Object.keys(process.env).length)); // sh adds PWD and the like
      for (const name of Object.keys(process.env)) if (name.startsWith(key)) delete process.env[name];
    }
    console.log(JSON.stringify(results));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const once = ['one', 'two', 'one', '99', 'one', '<unset>', 'true'];
  expect(JSON.parse(out)).toEqual([...once, ...once]);
});

test('in a Worker, whose process.env is its own copy, the child gets that copy', () => {
  const script = `
    const { Worker } = await import('node:worker_threads');
    process.env.FORKEXEC_WORKER_TEST = 'main thread';
    // An ES module, as the worker inherits --input-type=module.
    const code = \`
      const { parentPort } = await import('node:worker_threads');
      process.env.FORKEXEC_WORKER_TEST = 'worker';
      const { forkBeforeExec } = await import(${JSON.stringify(core)});
      const { backend } = await import(${JSON.stringify(dist)});
      const results = [];
      for (const startOffLoop of [true, false])
        results.push((await forkBeforeExec('/bin/sh', ['-c', 'printf %s "$FORKEXEC_WORKER_TEST"'], { backend, startOffLoop })).stdout);
      parentPort.postMessage(results);\`;
    const worker = new Worker(code, { eval: true });
    worker.once('message', (results) => { console.log(JSON.stringify(results)); worker.terminate(); });
    worker.once('error', (error) => { console.error(error); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual(['worker', 'worker']);
});
