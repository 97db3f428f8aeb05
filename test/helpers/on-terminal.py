"""Runs a command on a fresh pseudo-terminal (its controlling terminal, so /dev/tty works),
types KEYS once the output shows PROMPT, and prints the output, then "exit=N" on a last line.
Usage: on-terminal.py PROMPT KEYS(escaped, e.g. \\x03 or \\r) COMMAND [ARGS...]"""
import os
import pty
import select
import sys
import time

prompt = sys.argv[1].encode()
keys = sys.argv[2].encode().decode('unicode_escape').encode('latin-1')
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
output = b''
sent = False
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if fd in ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
        if not sent and prompt in output:
            time.sleep(0.2)  # let the prompt switch the terminal to raw mode first
            os.write(fd, keys)
            sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(output.decode('utf-8', 'replace'))
sys.stdout.write('\nexit=%d\n' % os.waitstatus_to_exitcode(status))
