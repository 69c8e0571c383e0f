#!/usr/bin/env python3
"""The rings of a running `uring` server, read from its memory and decoded.

    python3 docs/rings.py [OUT]      (default: docs/src/results/rings.txt)

Starts `target/release/uring` (build it first: `cargo build --release -p
uring`) on a free port, sends one HTTP request on a keep-alive connection
and reads the answer, leaves the connection open so that the server goes
back to sleep in io_uring_enter, then reads the two shared mappings the
server made of its ring (`anon_inode:[io_uring]` in /proc/PID/maps: the
rings at offset 0, the array of SQEs at offset 0x10000000) through
/proc/PID/mem, as root. It prints the heads and tails of both queues,
every submission queue entry (SQE) and completion queue entry (CQE) the
run left in them, decoded field by field, the server's `user_data`
included, and then one SQE and one CQE in full, byte offsets and all.

Where each field sits inside the ring mapping (`sq_off`, `cq_off`) is the
kernel's layout: this script asks the same kernel for it by setting up a
ring of its own with the server's parameters (io_uring_setup(2) through
ctypes) and closing it at once.

The uring chapter includes the output (`results/rings.txt`).
"""
import ctypes
import os
import re
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target/release/uring")

# The server's ring (uring/src/sys.rs): 1024 SQEs, 4 × as many CQEs.
ENTRIES = 1024
SETUP_CQSIZE, SETUP_SINGLE_ISSUER, SETUP_DEFER_TASKRUN = 0x8, 0x1000, 0x2000
SYS_IO_URING_SETUP = 425

# The io_uring ABI (include/uapi/linux/io_uring.h).
OPCODES = {9: "SENDMSG", 11: "TIMEOUT", 13: "ACCEPT", 14: "ASYNC_CANCEL",
           18: "OPENAT", 22: "READ", 26: "SEND", 27: "RECV"}
SQE_FLAGS = [(0x1, "IOSQE_FIXED_FILE"), (0x2, "IOSQE_IO_DRAIN"),
             (0x4, "IOSQE_IO_LINK"), (0x8, "IOSQE_IO_HARDLINK"),
             (0x10, "IOSQE_ASYNC"), (0x20, "IOSQE_BUFFER_SELECT"),
             (0x40, "IOSQE_CQE_SKIP_SUCCESS")]
# `ioprio` carries the per-opcode flags of accept, recv and send.
IOPRIO = {13: [(0x1, "IORING_ACCEPT_MULTISHOT")],
          27: [(0x1, "IORING_RECVSEND_POLL_FIRST"), (0x2, "IORING_RECV_MULTISHOT")],
          26: [(0x1, "IORING_RECVSEND_POLL_FIRST")],
          9: [(0x1, "IORING_RECVSEND_POLL_FIRST")]}
MSG_FLAGS = [(0x40, "MSG_DONTWAIT"), (0x100, "MSG_WAITALL"), (0x4000, "MSG_NOSIGNAL")]
ACCEPT_FLAGS = [(0x800, "SOCK_NONBLOCK"), (0x80000, "SOCK_CLOEXEC")]
CQE_FLAGS = [(0x1, "IORING_CQE_F_BUFFER"), (0x2, "IORING_CQE_F_MORE"),
             (0x4, "IORING_CQE_F_SOCK_NONEMPTY"), (0x8, "IORING_CQE_F_NOTIF"),
             (0x10, "IORING_CQE_F_BUF_MORE")]


def names(value, table):
    """`value`'s bits by name, and any left over in hex."""
    parts = [name for bit, name in table if value & bit]
    rest = value & ~sum(bit for bit, _ in table)
    if rest:
        parts.append(hex(rest))
    return "|".join(parts) or "0"


def user_data(value):
    """The server's packing (uring/src/ops.rs, `Op::pack`): the kind of
    operation in the low 3 bits, the connection's token above them."""
    kind, token = value & 7, value >> 3
    return {0: "Accept", 1: "Timer", 3: "Cancel"}.get(kind) or \
        f"{ {4: 'Recv', 5: 'Send', 6: 'Open', 7: 'Read'}[kind] }(token {token})"


class Params(ctypes.Structure):
    """struct io_uring_params."""
    _fields_ = [("sq_entries", ctypes.c_uint32), ("cq_entries", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("sq_thread_cpu", ctypes.c_uint32),
                ("sq_thread_idle", ctypes.c_uint32), ("features", ctypes.c_uint32),
                ("wq_fd", ctypes.c_uint32), ("resv", ctypes.c_uint32 * 3),
                # sq_off: head, tail, ring_mask, ring_entries, flags, dropped,
                # array, resv1, user_addr (u64)
                ("sq_off", ctypes.c_uint32 * 8), ("sq_user_addr", ctypes.c_uint64),
                # cq_off: head, tail, ring_mask, ring_entries, overflow, cqes,
                # flags, resv1, user_addr (u64)
                ("cq_off", ctypes.c_uint32 * 8), ("cq_user_addr", ctypes.c_uint64)]


def layout():
    """The kernel's offsets of the ring fields, from a ring set up like the
    server's and closed again."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = Params()
    params.flags = SETUP_CQSIZE | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN
    params.cq_entries = 4 * ENTRIES
    fd = libc.syscall(SYS_IO_URING_SETUP, ENTRIES, ctypes.byref(params))
    if fd < 0:
        sys.exit(f"rings.py: io_uring_setup: {os.strerror(ctypes.get_errno())}")
    os.close(fd)
    return params


def mappings(pid):
    """The server's two ring mappings: {mmap offset: (start, length)}."""
    found = {}
    for line in open(f"/proc/{pid}/maps"):
        if "anon_inode:[io_uring]" in line:
            span, _, offset = line.split()[:3]
            start, end = (int(x, 16) for x in span.split("-"))
            found[int(offset, 16)] = (start, end - start)
    return found


def read(pid, start, length):
    with open(f"/proc/{pid}/mem", "rb") as mem:
        mem.seek(start)
        return mem.read(length)


def sqe_fields(raw):
    """An SQE's 64 bytes: (offset, size, field, value, meaning) each."""
    opcode, flags, ioprio, fd, off, addr, length, op_flags, data, buf = \
        struct.unpack_from("<BBHiQQIIQH", raw)
    if opcode in (9, 26, 27):
        op_meaning = names(op_flags, MSG_FLAGS)
    elif opcode == 13:
        op_meaning = names(op_flags, ACCEPT_FLAGS)
    else:
        op_meaning = ""
    if opcode == 27 and flags & 0x20 and length == 0:
        len_meaning = "0: what the buffer picked holds"
    elif opcode in (22, 26, 27):
        len_meaning = "bytes"
    elif opcode == 11:
        len_meaning = "one timespec, at addr"
    else:
        len_meaning = ""
    fd_meaning = {13: "the listener", 11: "none"}.get(opcode, "the socket" if fd >= 0 else "")
    return [
        (0, 1, "opcode", opcode, f"IORING_OP_{OPCODES.get(opcode, opcode)}"),
        (1, 1, "flags", flags, names(flags, SQE_FLAGS)),
        (2, 2, "ioprio", ioprio, names(ioprio, IOPRIO.get(opcode, []))),
        (4, 4, "fd", fd, fd_meaning),
        (8, 8, "off", off, ""),
        (16, 8, "addr", addr, "a pointer into the server" if addr else ""),
        (24, 4, "len", length, len_meaning),
        (28, 4, "op_flags", op_flags, op_meaning),
        (32, 8, "user_data", data, user_data(data)),
        (40, 2, "buf_group", buf, "the pool's buffer group" if flags & 0x20 else ""),
    ]


def cqe_fields(raw):
    data, res, flags = struct.unpack_from("<QiI", raw)
    meaning = names(flags & 0xFFFF, CQE_FLAGS)
    if flags & 0x1:
        meaning += f", buffer {flags >> 16}"
    return [(0, 8, "user_data", data, user_data(data)),
            (8, 4, "res", res, "bytes" if res >= 0 else os.strerror(-res)),
            (12, 4, "flags", flags, meaning)]


def two_lines(fields):
    """The fields that are set, each by its meaning where it has a name:
    the operands on one line, the flags on the next."""
    operands, flags = [], []
    for _, _, name, value, meaning in fields:
        if not value and name not in ("fd", "user_data"):
            continue
        if name in ("flags", "ioprio", "op_flags"):
            flags.append(f"{name}={meaning}")
        elif name == "user_data":
            operands.append(f"user_data={value:#x}: {meaning}")
        elif name == "addr":
            operands.append("addr=(a pointer)")
        else:
            operands.append(f"{name}={value}")
    return " ".join(operands), " ".join(flags)


def full(fields, raw):
    lines = []
    for offset, size, name, value, meaning in fields:
        hexed = raw[offset:offset + size].hex(" ")
        lines.append(f"  {offset:>2}  {name:<10} {hexed:<24} {value:<#8x} {meaning}".rstrip())
    return "\n".join(lines)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs/src/results/rings.txt")
    params = layout()
    server = subprocess.Popen([BINARY, "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)$", server.stdout.readline().strip()).group(1))
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /numbers.txt HTTP/1.1\r\nHost: rings\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + \
                int(re.search(rb"Content-Length: (\d+)", answer).group(1)):
            answer += client.recv(65536)
        time.sleep(0.3)  # the server is back asleep in io_uring_enter
        maps = mappings(server.pid)
        ring = read(server.pid, *maps[0])
        sqes = read(server.pid, *maps[0x10000000])
    finally:
        server.terminate()
        server.wait()
    sq, cq = params.sq_off, params.cq_off
    word = lambda at: struct.unpack_from("<I", ring, at)[0]
    sq_head, sq_tail, sq_mask = word(sq[0]), word(sq[1]), word(sq[2])
    cq_head, cq_tail, cq_mask = word(cq[0]), word(cq[1]), word(cq[2])
    status = answer.split(b"\r\n", 1)[0].decode()
    text = [f"# uring after one request (`{status}`, {len(answer)} bytes) on a connection left open",
            f"# ring setup flags: {params.flags:#x} = IORING_SETUP_CQSIZE|IORING_SETUP_SINGLE_ISSUER",
            "#                          |IORING_SETUP_DEFER_TASKRUN",
            "",
            f"submission queue: {word(sq[3])} entries (mask {sq_mask:#x}), head {sq_head}, tail {sq_tail}"
            f" -> {sq_tail - sq_head} waiting for the kernel",
            f"completion queue: {word(cq[3])} entries (mask {cq_mask:#x}), head {cq_head}, tail {cq_tail}"
            f" -> {cq_tail - cq_head} waiting for the server",
            "",
            "every SQE the run wrote (ring position -> slot of the SQE array):"]
    recv_sqe = recv_cqe = None
    for position in range(sq_tail):
        slot = word(sq[6] + 4 * (position & sq_mask))
        raw = sqes[64 * slot:64 * slot + 64]
        fields = sqe_fields(raw)
        operands, flags = two_lines(fields[1:])
        text.append(f"  [{position:>2}] -> sqe {slot:<3} {fields[0][4]:<19} {operands}")
        if flags:
            text.append(f"{'':<35}{flags}")
        if fields[0][3] == 27 and recv_sqe is None:
            recv_sqe = (fields, raw)
    text += ["", "every CQE the kernel posted:"]
    for position in range(cq_tail):
        at = cq[5] + 16 * (position & cq_mask)
        raw = ring[at:at + 16]
        fields = cqe_fields(raw)
        text.append(f"  [{position:>2}] {fields[0][4]:<16} res={fields[1][3]:<6} flags={fields[2][3]:#x}")
        if fields[2][3]:
            text.append(f"{'':<35}= {fields[2][4]}")
        if recv_sqe and fields[0][3] == recv_sqe[0][8][3] and fields[1][3] > 0 and recv_cqe is None:
            recv_cqe = (fields, raw)
    if recv_sqe:
        text += ["", "the connection's recv, as submitted (one SQE, 64 bytes; the rest are zero):",
                 "  off field      bytes (little-endian)    value    meaning",
                 full(*recv_sqe)]
    if recv_cqe:
        text += ["", "its first completion, the request (one CQE, 16 bytes):",
                 "  off field      bytes (little-endian)    value    meaning",
                 full(*recv_cqe)]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
