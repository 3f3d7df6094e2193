"""The plugin pipeline: stages, order, images, shared variables, rollback, depth, async jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, ExecutionContext
from xrm.data.jobs import job_statuses, run_due_jobs
from xrm.errors import LoopDetectedError, PluginExecutionError
from xrm.plugin import PluginRegistry
from xrm.schema.platform_tables import audit_table

SVC = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "svc"


def with_steps(write_solution, steps: list[dict]) -> Path:  # type: ignore[type-arg]
    """A small solution that depends on svc and only registers plugin steps."""
    manifest = {"name": "svcsteps", "display_name": "Steps", "version": "1.0.0", "publisher": {"name": "T", "prefix": "tsv"},
                "dependencies": [{"name": "svc"}]}  # fmt: skip
    return write_solution(manifest, {"plugins.yaml": {"steps": steps}})


def step(name: str, plugin: str, message: str, stage: int, **more) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"name": name, "plugin": plugin, "message": message, "entity": "tsv_parent", "stage": stage, **more}


def test_stages_run_in_order_with_images_and_shared_variables(environment, write_solution) -> None:
    calls: list[tuple[str, int]] = []
    registry = PluginRegistry()

    def recorder(tag: str):  # type: ignore[no-untyped-def]
        def run(context: ExecutionContext) -> None:
            calls.append((tag, context.stage.value))
            context.shared_variables.setdefault("seen", []).append(tag)

        return run

    def pre_operation(context: ExecutionContext) -> None:
        context.target["tsv_size"] = 42  # type: ignore[index]

    def post_operation(context: ExecutionContext) -> None:
        calls.append(("post", context.stage.value))
        assert context.shared_variables["seen"] == ["validate", "second", "first"]
        assert context.pre_images["before"]["tsv_name"] == "old"
        assert context.post_images["after"]["tsv_name"] == "new" and context.post_images["after"]["tsv_size"] == 42
        assert context.depth == 1 and context.user_id is None

    for name, plugin in {"validate": recorder("validate"), "first": recorder("first"), "second": recorder("second"),
                         "pre": pre_operation, "post": post_operation}.items():  # fmt: skip
        registry.register(f"t_{name}", plugin)
    steps = [
        step("v", "t_validate", "update", 10),
        step("b", "t_first", "update", 20, order=2),
        step("a", "t_second", "update", 20, order=1),
        step("p", "t_pre", "update", 20, order=3),
        step(
            "post",
            "t_post",
            "update",
            40,
            images=[{"name": "before", "type": "pre"}, {"name": "after", "type": "post"}],
        ),
    ]
    env = environment(SVC, with_steps(write_solution, steps), registry=registry)
    service = env.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="old"))
    service.update(Entity("tsv_parent", {"tsv_name": "new"}, id=record_id))
    assert calls == [("validate", 10), ("second", 20), ("first", 20), ("post", 40)]
    assert service.retrieve("tsv_parent", record_id)["tsv_size"] == 42, "pre-operation changed the target"


def test_filtering_attributes_limit_update_steps(environment, write_solution) -> None:
    hits: list[str] = []
    registry = PluginRegistry()
    registry.register("t_hit", lambda context: hits.append(context.message))
    env = environment(
        SVC,
        with_steps(write_solution, [step("f", "t_hit", "update", 40, filtering_attributes=["tsv_size"])]),
        registry=registry,
    )
    service = env.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="a"))
    service.update(Entity("tsv_parent", {"tsv_name": "b"}, id=record_id))
    assert hits == []
    service.update(Entity("tsv_parent", {"tsv_size": 7}, id=record_id))
    assert hits == ["update"]


def test_a_failing_post_operation_plugin_leaves_no_trace(environment, write_solution) -> None:
    registry = PluginRegistry()

    def refuse(context: ExecutionContext) -> None:
        raise RuntimeError("credit check failed for this customer")

    registry.register("t_refuse", refuse)
    refusal = {"name": "r", "plugin": "t_refuse", "message": "create", "entity": "tsv_child", "stage": 40}
    env = environment(SVC, with_steps(write_solution, [refusal]), registry=registry)
    service = env.service()
    parent = service.create(Entity("tsv_parent", tsv_name="p"))
    with env.engine.connect() as connection:
        audits_before = connection.execute(select(func.count()).select_from(audit_table)).scalar_one()
    with pytest.raises(PluginExecutionError) as error:
        service.create(
            Entity("tsv_child", tsv_name="c", tsv_amount=5, tsv_parentid=EntityReference("tsv_parent", parent))
        )
    assert error.value.message == "credit check failed for this customer" and error.value.code == "PLUGIN_ERROR"
    assert error.value.step == "r"
    with env.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(env.table("tsv_child"))).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(audit_table)).scalar_one() == audits_before
    record = service.retrieve("tsv_parent", parent)
    assert record["tsv_childcount"] == 0 and record["tsv_smallest"] is None, "rollup deltas rolled back"
    second = service.retrieve("tsv_parent", service.create(Entity("tsv_parent", tsv_name="q")))
    assert second["tsv_number"].startswith("SVC-01001-"), "the counter rolled back with the transaction"


def test_recursion_is_stopped_at_depth_nine(environment, write_solution) -> None:
    registry = PluginRegistry()
    depths: list[int] = []

    def again(context: ExecutionContext) -> None:
        depths.append(context.depth)
        size = context.service.retrieve("tsv_parent", context.primary_id, ["tsv_size"])["tsv_size"]
        context.service.update(Entity("tsv_parent", {"tsv_size": (size + 1) % 100}, id=context.primary_id))

    registry.register("t_again", again)
    env = environment(SVC, with_steps(write_solution, [step("loop", "t_again", "update", 40)]), registry=registry)
    service = env.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="a", tsv_size=0))
    with pytest.raises(LoopDetectedError, match="depth 9") as error:
        service.update(Entity("tsv_parent", {"tsv_size": 1}, id=record_id))
    assert error.value.code == "LOOP_DETECTED"
    assert depths == list(range(1, 9))
    assert service.retrieve("tsv_parent", record_id)["tsv_size"] == 0, "the whole chain rolled back"


def test_async_steps_run_after_commit_and_failures_are_retried(environment, write_solution) -> None:
    registry = PluginRegistry()
    attempts: list[str] = []

    def flaky(context: ExecutionContext) -> None:
        attempts.append(context.target["tsv_name"])  # type: ignore[index]
        if len(attempts) < 2:
            raise ConnectionError("mail server unavailable")
        context.service.create(Entity("tsv_tag", tsv_name=f"sent {context.target['tsv_name']}"))  # type: ignore[index]

    registry.register("t_flaky", flaky)
    env = environment(
        SVC, with_steps(write_solution, [step("mail", "t_flaky", "create", 40, mode="async")]), registry=registry
    )
    base = env.clock
    now = [base()]
    env.clock = lambda: now[0]
    service = env.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="a"))
    assert attempts == [], "async steps do not run inside the operation"
    (job,) = job_statuses(env, record_id=record_id)
    assert job.status == "pending"

    assert run_due_jobs(env) == 1
    (job,) = job_statuses(env, record_id=record_id)
    assert (job.status, job.attempts) == ("pending", 1) and "mail server unavailable" in str(job.last_error)
    assert run_due_jobs(env) == 0, "backoff: not due yet"
    import datetime as dt

    now[0] = now[0] + dt.timedelta(seconds=10)
    assert run_due_jobs(env) == 1
    (job,) = job_statuses(env, record_id=record_id)
    assert (job.status, job.attempts, job.last_error) == ("succeeded", 2, None)
    with env.engine.connect() as connection:
        names = list(connection.execute(select(env.table("tsv_tag").c.tsv_name)).scalars())
    assert names == ["sent a"]


def test_an_async_job_of_a_rolled_back_operation_is_never_written(environment, write_solution) -> None:
    registry = PluginRegistry()
    registry.register("t_noop", lambda context: None)

    def refuse(context: ExecutionContext) -> None:
        raise ValueError("no")

    registry.register("t_refuse", refuse)
    steps = [step("later", "t_noop", "create", 40, mode="async"), step("refuse", "t_refuse", "create", 40, order=5)]
    env = environment(SVC, with_steps(write_solution, steps), registry=registry)
    with pytest.raises(PluginExecutionError):
        env.service().create(Entity("tsv_parent", tsv_name="a"))
    assert job_statuses(env) == []


def test_unknown_plugin_is_a_named_error(environment, write_solution) -> None:
    from xrm.plugin import PluginNotFoundError

    with pytest.raises(PluginNotFoundError, match="no plugin 't_missing'.*xrm.plugins"):
        environment(SVC, with_steps(write_solution, [step("m", "t_missing", "create", 40)]))


def test_concurrent_workers_run_each_job_exactly_once(environment, write_solution) -> None:
    import threading

    registry = PluginRegistry()
    ran: list[str] = []
    lock = threading.Lock()

    def record(context: ExecutionContext) -> None:
        with lock:
            ran.append(str(context.primary_id))

    registry.register("t_record", record)
    env = environment(
        SVC, with_steps(write_solution, [step("rec", "t_record", "create", 40, mode="async")]), registry=registry
    )
    service = env.service()
    created = [str(service.create(Entity("tsv_parent", tsv_name=f"p{n}"))) for n in range(40)]

    def work(name: str) -> None:
        while run_due_jobs(env, worker=name, limit=3):
            pass

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == sorted(created), "every job ran, none twice"
    assert {job.status for job in job_statuses(env)} == {"succeeded"}


def test_a_step_may_run_as_the_system_user(environment, write_solution) -> None:
    from sqlalchemy import insert

    registry = PluginRegistry()
    seen: list[object] = []

    def who(context: ExecutionContext) -> None:
        seen.append((context.user_id, context.service.user_id))

    registry.register("t_who", who)
    steps = [
        step("as caller", "t_who", "create", 40),
        step("as system", "t_who", "create", 40, order=2, run_as_system=True),
    ]
    env = environment(SVC, with_steps(write_solution, steps), registry=registry)
    import uuid

    user = uuid.uuid4()
    with env.engine.begin() as connection:
        values = {"systemuserid": user, "domainname": "u", "fullname": "U", "businessunitid": ROOT_BUSINESS_UNIT_ID}
        connection.execute(insert(env.table("systemuser")).values(values))
    env.service().assign_role(EntityReference("systemuser", user), "system_administrator")
    env.service(user).create(Entity("tsv_parent", tsv_name="a"))
    assert seen == [(user, user), (user, None)]
