import asyncio
import inspect

from rag.apps.login import LoginGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_check_is_a_coroutine_function_gradio_awaits():
    # Gradio awaits auth only if it is a coroutine function; anything else's return
    # value is the verdict, and a coroutine object is always true.
    assert inspect.iscoroutinefunction(LoginGuard("u", "p").check)


def test_repeated_failures_lock_the_account_until_the_lockout_ends():
    clock = Clock()
    guard = LoginGuard("analyst", "s3cret", max_failures=3, lockout_s=60, clock=clock)
    assert guard.verdict("analyst", "s3cret")
    for _ in range(3):
        assert not guard.verdict("analyst", "guess")
    assert not guard.verdict("analyst", "s3cret")  # locked, even with the right password
    clock.now += 59
    assert not guard.verdict("analyst", "s3cret")
    clock.now += 2
    assert guard.verdict("analyst", "s3cret")


def test_a_success_resets_the_count_and_failures_wait():
    clock = Clock()
    guard = LoginGuard("a", "b", max_failures=2, lockout_s=60, delay_s=0.05, clock=clock)
    assert not guard.verdict("a", "x")
    assert guard.verdict("a", "b")
    assert not guard.verdict("a", "x")
    assert guard.verdict("a", "b")  # one failure since the last success: not locked
    started = asyncio.run(_timed(guard.check("a", "wrong")))
    assert started >= 0.05


async def _timed(coroutine) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    await coroutine
    return loop.time() - start
