// How an agent judges a controller's answer to one of its streams (the watch, the reports): a status other than 200
// is a failure named with the start of its body; a missing or wrong token proof means the peer is not the controller.
import type { IncomingMessage } from 'node:http';
import { PROOF_HEADER, proofMatches } from '../protocol/controller-proof.ts';

/**
 * Calls `reject` with one line and returns false when the stream must not be read; true when it may. `token` is the
 * agents' shared token (undefined: no auth) and `challenge` the one this request sent.
 */
export function acceptControllerResponse(
  response: IncomingMessage,
  trust: { readonly token: string | undefined; readonly challenge: string },
  reject: (message: string) => void,
): boolean {
  if (response.statusCode !== 200) {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < 500) body += chunk.slice(0, 500);
    });
    response.on('end', () => reject(`HTTP ${response.statusCode}: ${body.trim().slice(0, 200)}`));
    return false;
  }
  if (trust.token !== undefined && !proofMatches(trust.token, trust.challenge, response.headers[PROOF_HEADER])) {
    response.resume();
    reject(`the controller did not prove it holds the token (${PROOF_HEADER} missing or wrong): not trusted`);
    return false;
  }
  return true;
}
