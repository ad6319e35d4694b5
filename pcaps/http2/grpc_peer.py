#!/usr/bin/python3
"""gRPC server and client for the captures (python3-grpcio, no protoc: generic
handlers with identity serializers, so messages are raw bytes).

  grpc_peer.py server ADDR:PORT
  grpc_peer.py client ADDR:PORT     one channel (one connection), the calls
                                    below in order; prints one line per call

Service flowd.test.Echo:
  Unary          one message in, one out (echoed)
  ServerStream   one in, 5 out
  ClientStream   4 in, one out (their total length)
  Bidi           6 in, each echoed
  Fail           aborts with NOT_FOUND "no such item" (trailers-only)
  FailLate       2 messages out, then UNAVAILABLE "try again later" in trailers
"""
import sys
import time
from concurrent import futures

import grpc

SVC = "/flowd.test.Echo/"


def ident(b):
    return b


def unary(req, ctx):
    return b"echo:" + req


def server_stream(req, ctx):
    for i in range(5):
        yield b"part %d of %s" % (i, req)


def client_stream(it, ctx):
    return b"total %d" % sum(len(m) for m in it)


def bidi(it, ctx):
    for m in it:
        yield b"re:" + m


def fail(req, ctx):
    ctx.abort(grpc.StatusCode.NOT_FOUND, "no such item")


def fail_late(req, ctx):
    yield b"first"
    yield b"second"
    ctx.abort(grpc.StatusCode.UNAVAILABLE, "try again later")


HANDLERS = {
    "Unary": grpc.unary_unary_rpc_method_handler(unary, ident, ident),
    "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, ident, ident),
    "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, ident, ident),
    "Bidi": grpc.stream_stream_rpc_method_handler(bidi, ident, ident),
    "Fail": grpc.unary_unary_rpc_method_handler(fail, ident, ident),
    "FailLate": grpc.unary_stream_rpc_method_handler(fail_late, ident, ident),
}


class Generic(grpc.GenericRpcHandler):
    def service(self, details):
        if details.method.startswith(SVC):
            return HANDLERS.get(details.method[len(SVC):])
        return None


def server(addr):
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    s.add_generic_rpc_handlers((Generic(),))
    s.add_insecure_port(addr)
    s.start()
    print("listening", addr, flush=True)
    s.wait_for_termination()


def report(name, n_out, code, details):
    print("%s messages_received=%d status=%d %s details=%r"
          % (name, n_out, code.value[0], code.name, details or ""), flush=True)


def client(addr):
    # no retries, no keepalive pings: the capture shows only the calls
    ch = grpc.insecure_channel(addr, options=[("grpc.enable_retries", 0)])
    grpc.channel_ready_future(ch).result(timeout=10)
    md = (("x-flowd-test", "capture"),)

    r = ch.unary_unary(SVC + "Unary", ident, ident)(b"hello", metadata=md, timeout=10)
    report("Unary", 1, grpc.StatusCode.OK, None)

    got = list(ch.unary_stream(SVC + "ServerStream", ident, ident)(b"x", metadata=md, timeout=10))
    report("ServerStream", len(got), grpc.StatusCode.OK, None)

    r = ch.stream_unary(SVC + "ClientStream", ident, ident)(
        iter([b"a" * 10, b"b" * 100, b"c" * 1000, b"d" * 20000]), metadata=md, timeout=10)
    report("ClientStream", 1, grpc.StatusCode.OK, r.decode())

    got = list(ch.stream_stream(SVC + "Bidi", ident, ident)(
        iter([b"m%d" % i for i in range(6)]), metadata=md, timeout=10))
    report("Bidi", len(got), grpc.StatusCode.OK, None)

    try:
        ch.unary_unary(SVC + "Fail", ident, ident)(b"?", metadata=md, timeout=10)
    except grpc.RpcError as e:
        report("Fail", 0, e.code(), e.details())

    got = []
    try:
        for m in ch.unary_stream(SVC + "FailLate", ident, ident)(b"?", metadata=md, timeout=10):
            got.append(m)
    except grpc.RpcError as e:
        report("FailLate", len(got), e.code(), e.details())

    # a second round of unary calls: metadata now comes from the HPACK
    # dynamic table (what a capture cut before this point cannot know)
    for i in range(3):
        ch.unary_unary(SVC + "Unary", ident, ident)(b"again %d" % i, metadata=md, timeout=10)
        report("Unary", 1, grpc.StatusCode.OK, None)
    time.sleep(0.2)
    ch.close()


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2])
