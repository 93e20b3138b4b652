import os from 'node:os';

export interface Machine {
  platform: NodeJS.Platform;
  arch: string;
  kernel: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  node: string;
  /** glibc version at run time, null elsewhere. */
  glibc: string | null;
}

/** What the numbers came from. */
export function describeMachine(): Machine {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const cpus = os.cpus();
  return {
    platform: process.platform,
    arch: process.arch,
    kernel: `${os.type()} ${os.release()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    glibc: header?.glibcVersionRuntime ?? null,
  };
}

export function describeMachineLine(m: Machine): string {
  return (
    `${m.cpuModel} (${m.cpus} CPUs), ${Math.round(m.memoryBytes / 2 ** 30)} GiB RAM, ${m.kernel} ` +
    `${m.arch}, Node ${m.node}${m.glibc ? `, glibc ${m.glibc}` : ''}`
  );
}
