// harness/ports.ts: ports picked together differ, and each one is free to bind right after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { freePort, freePorts, freeUdpAndTcpPort, freeUdpPort } from '../../harness/ports.ts';

async function listenTcp(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  return server;
}

async function bindUdp(port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: '127.0.0.1', port }, () => resolve());
  });
  return socket;
}

test('freePorts gives distinct TCP ports that can all be listened on at once', async () => {
  const ports = await freePorts(4);
  assert.equal(new Set(ports).size, 4);
  const servers = await Promise.all(ports.map(listenTcp));
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

test('freePort and freeUdpPort give ports that can be bound', async () => {
  const server = await listenTcp(await freePort());
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const port = await freeUdpPort();
  const socket = await bindUdp(port);
  assert.equal(socket.address().port, port);
  socket.close();
});

test('freeUdpAndTcpPort gives a port that a UDP socket and a TCP server can bind at once (a DNS server binds both)', async () => {
  const port = await freeUdpAndTcpPort();
  const server = await listenTcp(port);
  const socket = await bindUdp(port);
  assert.equal(socket.address().port, port);
  socket.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
