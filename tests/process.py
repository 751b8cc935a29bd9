# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The processes the tests start, each in a process group of its own

A test that starts trytond, trytond-worker or a browser must end whatever
the process does: it runs in a session of its own (start_new_session), its
output goes to a temporary file (never a pipe that a forgotten child could
keep open), and it is stopped by group: a signal to the whole group, a wait
with a timeout, then SIGKILL to the group. Every wait has a timeout.
"""
import os
import signal
import subprocess
import tempfile
import time

__all__ = ['GroupProcess', 'start']

# How long a process is given to stop on its signal before it is killed
STOP_TIMEOUT = 30
# How long a killed group is given to vanish
KILL_TIMEOUT = 10


class GroupProcess:
    "A process started in a process group of its own"

    def __init__(self, args, env=None, cwd=None, output=None):
        if output is None:
            self._log = tempfile.TemporaryFile()
        else:
            self._log = open(output, 'w+b')
        self.args = args
        self.process = subprocess.Popen(args, env=env, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_default_signals)
        self.pid = self.pgid = self.process.pid

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.close()

    def poll(self):
        return self.process.poll()

    @property
    def returncode(self):
        return self.process.returncode

    def alive(self):
        "If a process of the group is still running"
        return group_alive(self.pgid)

    def wait(self, timeout):
        """Wait timeout seconds at most for the main process; return its
        exit code or None when it still runs"""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def send(self, sig):
        "Send sig to every process of the group"
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def kill(self, timeout=KILL_TIMEOUT):
        "SIGKILL the whole group and wait until it is gone"
        self.send(signal.SIGKILL)
        self.wait(timeout)
        wait_group(self.pgid, timeout)

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT):
        """Stop the group: sig to all its processes, timeout seconds to end,
        then SIGKILL to what is left; return the exit code of the main
        process (None if it could not be collected)"""
        if self.alive():
            self.send(sig)
            deadline = time.monotonic() + timeout
            self.wait(timeout)
            # The children of the main process may outlive it
            wait_group(self.pgid, max(0, deadline - time.monotonic()))
        self.kill()
        return self.process.poll()

    def output(self):
        "The output of the process until now"
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors='replace')

    def close(self):
        self._log.close()


def _default_signals():
    """Give the signals that stop the group their default action in the
    child: a shell that starts a job in the background makes it ignore
    SIGINT, and a child that inherits it would not stop on it"""
    for sig in [signal.SIGINT, signal.SIGTERM]:
        signal.signal(sig, signal.SIG_DFL)


def start(args, env=None, cwd=None, output=None):
    "Start args in a process group of its own"
    return GroupProcess(args, env=env, cwd=cwd, output=output)


def group_pids(pgid):
    "The ids of the running (not zombie) processes of the group pgid"
    pids = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as fp:
                stat = fp.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces
        fields = stat[stat.rfind(')') + 2:].split()
        if fields[0] != 'Z' and int(fields[2]) == pgid:
            pids.append(int(name))
    return pids


def group_alive(pgid):
    "If a process of the group pgid is still running"
    if os.path.isdir('/proc/self'):
        return bool(group_pids(pgid))
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_group(pgid, timeout):
    """Wait timeout seconds at most until no process of the group pgid runs;
    return if none does"""
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def wait_for(check, timeout, interval=0.1):
    """Wait until check() is true, timeout seconds at most; return its last
    value"""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
