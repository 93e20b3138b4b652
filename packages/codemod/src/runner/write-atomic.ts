import { randomBytes } from 'node:crypto';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Replaces `file` with `content` all at once: a temporary file beside it, then rename(2). Keeps the mode. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const { mode } = await stat(file);
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.forkexec-${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temp, content, { mode, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}
