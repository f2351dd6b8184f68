/** Loopback ports for processes started on the fly (the embedded stack, tests, core's metrics exporter). */
import net from 'node:net';

/** A loopback port that was free a moment ago: the OS picks it (listen on 0), then it is released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
