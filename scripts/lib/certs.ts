/**
 * Test certificates made with the system's `openssl`: a CA, a server certificate for 127.0.0.1/localhost, and client
 * certificates it signs, for mTLS between the app and a real Temporal cluster. Keys are EC P-256; files are written
 * with mode 0600 (keys) into the given folder.
 */
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('openssl is not installed (Debian package "openssl")');
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

export interface Ca {
  certFile: string;
  keyFile: string;
}

export interface CertPair {
  certFile: string;
  keyFile: string;
}

export async function makeCa(dir: string, name: string): Promise<Ca> {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  chmodSync(keyFile, 0o600);
  await openssl(['req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-out', certFile]);
  return { certFile, keyFile };
}

/** A certificate signed by `ca`: a server one (with subjectAltName) or a client one. */
export async function makeCert(dir: string, name: string, ca: Ca, kind: 'server' | 'client', altNames: string[] = []): Promise<CertPair> {
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const certFile = path.join(dir, `${name}.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  chmodSync(keyFile, 0o600);
  await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csrFile]);
  writeFileSync(
    extFile,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      `extendedKeyUsage=${kind === 'server' ? 'serverAuth,clientAuth' : 'clientAuth'}`,
      ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '2',
    '-sha256',
    '-extfile',
    extFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}
