// A certified OpenID Provider (panva's oidc-provider, unmodified) for the portal's sign-in tests:
// one confidential client (code flow, PKCE, client_secret_post as ASP.NET Core's handler sends it),
// the accounts of accounts.json, and a login form that takes an account name and nothing else, so
// that a test drives the real authorization-code flow without a browser.
//
//   node provider.mjs --port 0 --client-id portal --client-secret s3cret \
//     --redirect-uri https://127.0.0.1:5443/signin-oidc \
//     --post-logout-redirect-uri https://127.0.0.1:5443/signout-callback-oidc
//
// Every option can also come from the environment (OP_PORT, OP_CLIENT_ID, OP_CLIENT_SECRET,
// OP_REDIRECT_URI, OP_POST_LOGOUT_REDIRECT_URI, OP_ACCOUNTS, OP_CLAIMS_IN_ID_TOKEN). Port 0 takes a
// free port; the issuer is printed as "oidc-provider ready at <issuer>" once it answers.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    'post-logout-redirect-uri': { type: 'string' },
    accounts: { type: 'string' },
    'claims-in-id-token': { type: 'boolean' },
    'exit-with-stdin': { type: 'boolean' },
  },
});

function setting(name, variable, fallback) {
  const value = args[name] ?? process.env[variable] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`provider.mjs: --${name} (or ${variable}) is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(setting('port', 'OP_PORT', '0'));
const clientId = setting('client-id', 'OP_CLIENT_ID');
const clientSecret = setting('client-secret', 'OP_CLIENT_SECRET');
const redirectUri = setting('redirect-uri', 'OP_REDIRECT_URI');
const postLogoutRedirectUri = setting('post-logout-redirect-uri', 'OP_POST_LOGOUT_REDIRECT_URI');
const accountsFile = setting('accounts', 'OP_ACCOUNTS', fileURLToPath(new URL('accounts.json', import.meta.url)));
// Off, the provider conforms to OpenID Connect Core 5.4 as oidc-provider does by default: for the code
// flow the scope claims (email, email_verified, groups) come only from the userinfo endpoint. On, they
// are in the ID token too, as Entra ID, Keycloak and Okta send them.
const claimsInIdToken = args['claims-in-id-token'] ?? process.env.OP_CLAIMS_IN_ID_TOKEN === 'true';

// Keyed by the name typed at the login form; `sub` is what the portal sees. An account without an
// `email_verified` property sends no such claim at all (as Entra ID does).
const accounts = JSON.parse(readFileSync(accountsFile, 'utf8'));
const accountsBySub = new Map(Object.values(accounts).map((account) => [account.sub, account]));

const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomUUID(),
  use: 'sig',
  alg: 'RS256',
};

const scopes = 'openid profile email groups';

function configuration() {
  return {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutRedirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    conformIdTokenClaims: !claimsInIdToken,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const account = accountsBySub.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          const claims = { sub, name: account.name, email: account.email, groups: account.groups ?? [] };
          if ('email_verified' in account) claims.email_verified = account.email_verified;
          return claims;
        },
      };
    },
    // The portal is the company's own application: a signed-in account grants it the scopes it asks
    // for without a consent screen (oidc-provider's documented way to skip consent for first parties).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(scopes);
      await grant.save();
      return grant;
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    renderError(ctx, out) {
      ctx.type = 'text';
      ctx.body = `oidc-provider error: ${out.error}: ${out.error_description ?? ''}`;
    },
  };
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid) {
  return `<!DOCTYPE html>
<html><head><title>Sign in</title></head><body>
<form method="post" action="/interaction/${escape(uid)}/login">
  <label>Account <input name="account" autofocus></label>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>
</body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  res.end(body);
}

async function interaction(provider, req, res, [uid, action]) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction mismatch');
  if (req.method === 'GET' && action === undefined) {
    if (details.prompt.name !== 'login') {
      return send(res, 500, 'text/plain', `unexpected prompt ${details.prompt.name}: ${JSON.stringify(details.prompt.reasons)}`);
    }
    return send(res, 200, 'text/html', loginPage(uid));
  }
  if (req.method === 'POST' && action === 'login') {
    const account = accounts[(await readForm(req)).get('account') ?? ''];
    if (!account) return send(res, 400, 'text/html', loginPage(uid));
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res,
      { error: 'access_denied', error_description: 'The person cancelled the sign-in.' }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, 'text/plain', 'not found');
}

let provider;
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://provider').pathname;
  const handled = path.startsWith('/interaction/')
    ? interaction(provider, req, res, path.slice('/interaction/'.length).split('/'))
    : provider.callback()(req, res);
  Promise.resolve(handled).catch((error) => {
    console.error(error);
    if (!res.headersSent) send(res, 500, 'text/plain', `provider.mjs: ${error.message}`);
    else res.end();
  });
});

// The issuer names the port, so the provider is made once the port is known (port 0: a free one).
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, configuration());
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  console.log(`oidc-provider ready at ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Started by a test, the provider ends with its parent even when the parent is killed: the pipe closes.
if (args['exit-with-stdin']) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
