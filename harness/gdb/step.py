# The instruction profiler's stepper, run inside gdb (Debian's `gdb`,
# batch mode) against QEMU's gdb stub; driven by harness/src/profile.rs.
#
# For every profiled call the kernel marks (runner-core/src/profile.rs:
# `traplab_profile_begin(label, len)` ... `traplab_profile_end(stamps, n)`)
# it writes to $TRAPLAB_TRACE:
#
#   begin <label>
#   <rip> <rsp>          one line per executed instruction, hex
#   tsc <value>          after an instruction that read the TSC (at an
#                        address listed in $TRAPLAB_TSC_SITES), what it
#                        read: the stamps are found among these by value
#   end <stamp> ...      the call's own stage stamps, decimal
#   (or `truncated` when $TRAPLAB_BOUND instructions were stepped first)
#
# and `done` when the guest has finished. Exact, not sampled: every
# instruction between the marks is one `stepi`, exceptions included: a faulting instruction's next
# step is the first instruction of its IDT stub.
import os

import gdb

PORT = os.environ["TRAPLAB_GDB_PORT"]
BOUND = int(os.environ.get("TRAPLAB_BOUND", "200000"))
MASK = (1 << 64) - 1

with open(os.environ["TRAPLAB_TSC_SITES"]) as f:
    TSC_SITES = {int(word, 16) for word in f.read().split()}

out = open(os.environ["TRAPLAB_TRACE"], "w")
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote 127.0.0.1:" + PORT)
inferior = gdb.selected_inferior()

begin = int(gdb.parse_and_eval("(unsigned long)&traplab_profile_begin"))
end = int(gdb.parse_and_eval("(unsigned long)&traplab_profile_end"))
gdb.execute("hbreak *%d" % begin, to_string=True)


def reg(frame, name):
    return int(frame.read_register(name)) & MASK


def word(address):
    return int.from_bytes(bytes(inferior.read_memory(address, 8)), "little")


def go():
    """Continue; False once the guest has gone (QEMU exited)."""
    try:
        gdb.execute("continue", to_string=True)
    except gdb.error:
        return False
    return inferior.pid != 0 and len(inferior.threads()) > 0


while go():
    frame = gdb.newest_frame()
    if reg(frame, "rip") != begin:
        continue
    label = bytes(inferior.read_memory(reg(frame, "rdi"), reg(frame, "rsi")))
    returns_to = word(reg(frame, "rsp"))
    # Out of the mark itself: the trace starts with the caller's next
    # instruction.
    gdb.execute("tbreak *%d" % returns_to, to_string=True)
    if not go():
        break
    out.write("begin %s\n" % label.decode("utf-8", "replace"))
    steps = 0
    while True:
        frame = gdb.newest_frame()
        rip = reg(frame, "rip")
        if rip == end:
            stamps = reg(frame, "rdi")
            n = reg(frame, "rsi")
            values = [word(stamps + 8 * i) for i in range(n)]
            out.write("end %s\n" % " ".join(str(v) for v in values))
            break
        if steps >= BOUND:
            # The rest of the call is not wanted, and QEMU runs it slowly
            # after stepping under icount: end the guest here.
            out.write("truncated\ndone\n")
            out.close()
            gdb.execute("kill")
            raise SystemExit
        out.write("%x %x\n" % (rip, reg(frame, "rsp")))
        gdb.execute("stepi", to_string=True)
        steps += 1
        if rip in TSC_SITES:
            frame = gdb.newest_frame()
            low = reg(frame, "rax") & 0xFFFFFFFF
            out.write("tsc %d\n" % ((reg(frame, "rdx") & 0xFFFFFFFF) << 32 | low))
    out.flush()

out.write("done\n")
out.close()
