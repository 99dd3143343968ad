"""Sandboxed multiprocess execution of candidates x tests into a PassMatrix.

    with Executor(ExecutorConfig(timeout=2.0)) as ex:
        m = ex.run(candidates, tests, entry_point="f")       # one problem -> PassMatrix
        m = ex.run(programs, stdio_tests, language="cpp")     # other languages: executor.languages
        for key, m in ex.run_many(jobs):                       # many problems, streamed in input order
            ...
"""
from executor.config import ExecutorConfig
from executor.specs import CallTest, CodeTest, Judge, StdioTest, TestSpec, as_test, test_to_json
from executor.status import Status

__all__ = [
    "CallTest", "CodeTest", "Executor", "ExecutorConfig", "ExecutorStalled", "Job", "Judge", "PassMatrix",
    "StdioTest", "Status", "TestSpec", "as_test", "test_to_json",
]


def __getattr__(name: str):
    """The runtime (the pool, the matrix's numpy) loads on first use: a worker imports none of it, so a
    candidate cannot find numpy already loaded, and `import executor` stays light."""
    if name in ("Executor", "ExecutorStalled", "Job"):
        from executor import runner

        return getattr(runner, name)
    if name == "PassMatrix":
        from executor.matrix import PassMatrix

        return PassMatrix
    raise AttributeError(name)
