"""KernelSession's bookkeeping without a server: what is replayed, and the one-time note."""

from __future__ import annotations


def test_a_long_replay_is_said_once():
    from cocalc_magic.client.jupyter import KernelSession, RunResult

    class Stub:  # a project whose cells succeed at once: only the count makes the replay long
        project_id = "p"

        def run(self, code, **kw):
            return RunResult(outputs=[], kernel="python3", project_id="p")

    s = KernelSession(Stub())
    notes = [n for i in range(25) for n in s.run(f"x{i} = {i}").notes]
    assert len(notes) == 1 and notes[0].startswith("Note: this session replays 20 earlier cells")
    assert "--fresh" in notes[0] and "%cocalc session reset" in notes[0]
    s.reset()
    assert s.history == [] and not s.warned
