"""A TCP proxy on loopback that adds a fixed delay to every chunk in each direction, so that a
round trip through it costs twice the delay (tc netem is not available here). Order and timing
within a direction are kept: a chunk leaves DELAY after it arrived.

    python3 delay_proxy.py DELAY_MS TARGET_PORT LISTEN_PORT [LISTEN_PORT ...]

Prints "READY" once every port listens. Counts nothing and stops when killed.
"""

import asyncio
import sys


async def pipe(reader, writer, delay, loop):
    queue = asyncio.Queue()

    async def send():
        while True:
            due, chunk = await queue.get()
            pause = due - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            if chunk is None:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.ensure_future(send())
    try:
        while True:
            chunk = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, chunk or None))
            if not chunk:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
    finally:
        writer.close()


async def main():
    delay = float(sys.argv[1]) / 1000.0
    target = int(sys.argv[2])
    loop = asyncio.get_running_loop()

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        for sock_writer in (client_writer, server_writer):
            sock = sock_writer.get_extra_info("socket")
            if sock is not None:
                import socket
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(pipe(client_reader, server_writer, delay, loop),
                             pipe(server_reader, client_writer, delay, loop), return_exceptions=True)

    servers = [await asyncio.start_server(handle, "127.0.0.1", int(port)) for port in sys.argv[3:]]
    print("READY", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(main())
