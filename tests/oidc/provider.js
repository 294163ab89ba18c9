// A real OpenID provider (panva's oidc-provider) for reviewflow's single sign-on tests.
//
// Usage: node provider.js <config.json>, where the file holds
//   {"port": 0, "client": {"client_id", "client_secret", "redirect_uri"},
//    "accounts": {"<login>": {"email": "...", "email_verified": true}}}
// It listens on 127.0.0.1 (port 0: any free one) and prints one line, {"issuer": "..."}, once
// it accepts connections. Its own login form (the development interactions) takes a login
// named in "accounts" and any password.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function findAccount(_ctx, id) {
  const claims = config.accounts[id];
  if (!claims) {
    return undefined;
  }
  return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
}

const server = createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: config.client.client_id,
        client_secret: config.client.client_secret,
        redirect_uris: [config.client.redirect_uri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // Every client, confidential or not, must send a PKCE challenge (S256 is the only method).
    pkce: { required: () => true, methods: ['S256'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: true } },
    findAccount,
    // Fixed keys: the provider lives for one test module.
    cookies: { keys: ['reviewflow-tests-only'] },
  });
  provider.on('server_error', (_ctx, error) => console.error(error));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
