/**
 * An OIDC issuer stand-in on 127.0.0.1: the discovery document (`/.well-known/openid-configuration`, OpenID Connect
 * Discovery 1.0) and the JSON Web Key Set it names (`/jwks.json`, RFC 7517), with an RS256 key generated at start.
 * `sign()` issues access tokens with that key, as the identity provider behind the Temporal Web UI would; tokens
 * signed by `foreignKey()` look the same but are not in the JWKS.
 */
import type { CryptoKey, JWTPayload } from 'jose' with { 'resolution-mode': 'import' };
import { StandIn } from './stand-in';

// jose is an ES module and this project compiles to CommonJS: loaded with import().
const jose = () => import('jose');

export interface TokenOptions {
  claims?: JWTPayload;
  issuer?: string;
  audience?: string;
  /** Seconds from now (negative: already expired). */
  expiresIn?: number;
  key?: CryptoKey;
  kid?: string;
}

export class OidcIssuer extends StandIn {
  private signingKey: CryptoKey | null = null;
  readonly kid = 'test-signing-key-1';

  get issuer(): string {
    return this.url;
  }

  override async start(): Promise<this> {
    await super.start();
    const { exportJWK, generateKeyPair } = await jose();
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    this.signingKey = privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: this.kid, alg: 'RS256', use: 'sig' };
    this.on('GET', '/.well-known/openid-configuration', () => ({
      body: { issuer: this.issuer, jwks_uri: `${this.url}/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] },
    }));
    this.on('GET', '/jwks.json', () => ({ body: { keys: [jwk] } }));
    return this;
  }

  /** A key pair the JWKS does not publish. */
  static async foreignKey(): Promise<CryptoKey> {
    return (await (await jose()).generateKeyPair('RS256')).privateKey;
  }

  async sign(options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.signingKey;
    if (!key) throw new Error('OidcIssuer not started');
    const { SignJWT } = await jose();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...options.claims })
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? this.kid, typ: 'at+jwt' })
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? 'temporal-ui')
      .setSubject(String(options.claims?.sub ?? 'alice@example.com'))
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (options.expiresIn ?? 300))
      .sign(key);
  }
}
