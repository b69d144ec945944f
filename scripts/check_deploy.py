#!/usr/bin/env python3
"""The Python half of scripts/check-deploy.sh: schema generation, and the checks no tool does.

Subcommands (each prints what it checked; a failure exits 1 with the reason):
  k8s-schemas OPENAPI_DIR OUT_DIR       Kubernetes' OpenAPI v3 documents -> kubeconform schemas
  crd-schemas OUT_DIR CRD_YAML...       CRDs' openAPIV3Schema -> kubeconform schemas
  compose SCHEMA COMPOSE EBB            a compose file against the compose-spec, its ebb services
  dashboard DASHBOARD RULES_OUT SRC...  a Grafana dashboard; writes its PromQL as rules for promtool
  values-docs CHART_DIR                 every value documented with `# --` and in values.schema.json
  keda-triggers SCALERS MANIFEST...     ScaledObject trigger metadata against KEDA's scaler schema
  ebb-flags EBB MANIFEST...             EBB_* variables and flags of ebb containers exist in ebb
  chart-invariants CASE MODE MANIFEST   what the ebb chart promises (replicas, drain, security)
  argocd APP APPSET REPO_ROOT           Argo CD files point at the chart, ignore /spec/replicas
  helmfile HELMFILE                     releases, environments and values files of the helmfile
  metric-names METRICS_TEXT SRC...      metric names on /metrics are the ones the sources declare
  dockerfile DOCKERFILE IGNORE EBB ROOT the image's stages, user, entrypoint, runtime libraries
  break-manifest KIND IN OUT            a copy of IN with an unknown field in the first KIND

Only Debian's python3-yaml and python3-jsonschema are used.
"""

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

failures = []


def fail(message):
    failures.append(message)
    print(f"FAILED: {message}")


def ok(message):
    print(f"ok: {message}")


def finish():
    sys.exit(1 if failures else 0)


def load_all(path):
    with open(path) as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


# ---------------------------------------------------------------------------------------------
# JSON schemas for kubeconform
#
# kubeconform looks a resource's schema up by a path template; with -strict it wants the strict
# variant, where every object that lists its properties allows no others (what `kubectl apply
# --validate=strict` and the API server's strict field validation reject). The transformation is
# the one of kubeconform's openapi2jsonschema.py, applied to every object, root included, except
# where the API itself keeps unknown fields (x-kubernetes-preserve-unknown-fields).


def kubeconform_name(kind, api_version):
    """The file name kubeconform's template `{{ .ResourceKind }}{{ .KindSuffix }}` gives."""
    parts = api_version.split("/")
    suffix = "-" + parts[0].split(".")[0].lower()
    if len(parts) > 1:
        suffix += "-" + parts[1].lower()
    return f"{kind.lower()}{suffix}-strict.json"


def strictify(node):
    if isinstance(node, dict):
        if node.get("x-kubernetes-embedded-resource") and "properties" in node:
            for field, schema in (
                ("apiVersion", {"type": "string"}),
                ("kind", {"type": "string"}),
                ("metadata", {"type": "object"}),
            ):
                node["properties"].setdefault(field, schema)
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for value in node.values():
            strictify(value)
    elif isinstance(node, list):
        for value in node:
            strictify(value)
    return node


def rewrite_refs(node):
    """#/components/schemas/X -> #/definitions/X, inside the one shared _definitions.json."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/components/schemas/", "#/definitions/")
                if key == "$ref" and isinstance(value, str)
                else rewrite_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [rewrite_refs(value) for value in node]
    return node


def pin_type_meta(kind, api_version):
    return {
        "properties": {"kind": {"enum": [kind]}, "apiVersion": {"enum": [api_version]}},
        "required": ["kind", "apiVersion"],
    }


def cmd_k8s_schemas(openapi_dir, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    definitions = {}
    documents = sorted(Path(openapi_dir).glob("*_openapi.json"))
    if not documents:
        fail(f"no *_openapi.json in {openapi_dir}")
        return
    for document in documents:
        for name, schema in (
            json.loads(document.read_text()).get("components", {}).get("schemas", {}).items()
        ):
            definitions[name] = schema
    kinds = 0
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            root = {
                "allOf": [
                    {"$ref": f"_definitions.json#/definitions/{name}"},
                    pin_type_meta(gvk["kind"], api_version),
                ]
            }
            (out / kubeconform_name(gvk["kind"], api_version)).write_text(json.dumps(root))
            kinds += 1
    shared = {
        "definitions": {
            name: strictify(rewrite_refs(copy.deepcopy(schema)))
            for name, schema in definitions.items()
        }
    }
    (out / "_definitions.json").write_text(json.dumps(shared))
    ok(
        f"{kinds} Kubernetes kinds from {len(documents)} OpenAPI v3 documents "
        f"({len(definitions)} definitions) -> {out}"
    )


def cmd_crd_schemas(out_dir, *crd_files):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    object_meta = "_definitions.json#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    have_meta = (out / "_definitions.json").exists()
    for crd_file in crd_files:
        for crd in load_all(crd_file):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            kind, group = crd["spec"]["names"]["kind"], crd["spec"]["group"]
            for version in crd["spec"]["versions"]:
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                api_version = f"{group}/{version['name']}"
                # The API server validates a custom resource's metadata as ObjectMeta; the CRD
                # schema only says `type: object`.
                if have_meta and "metadata" in schema.get("properties", {}):
                    schema["properties"]["metadata"] = {"$ref": object_meta}
                schema = {"allOf": [strictify(schema), pin_type_meta(kind, api_version)]}
                (out / kubeconform_name(kind, api_version)).write_text(json.dumps(schema))
                ok(f"{kind} {api_version} from {Path(crd_file).name}")


# ---------------------------------------------------------------------------------------------
# Compose


INTERPOLATION = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value, environment):
    """Compose's variable substitution ($VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, $$)."""

    def substitute(match):
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        current = environment.get(name)
        if operator in (":-", "-"):
            unset = current is None or (operator == ":-" and current == "")
            return argument if unset else current
        if operator in (":?", "?"):
            if current is None or (operator == ":?" and current == ""):
                raise ValueError(f"required variable {name} is not set: {argument}")
            return current
        if operator in (":+", "+"):
            return argument if current else ""
        return current or ""

    if isinstance(value, str):
        return INTERPOLATION.sub(substitute, value)
    if isinstance(value, dict):
        return {key: interpolate(item, environment) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environment) for item in value]
    return value


def ebb_help(ebb, command):
    """The EBB_* variables and long flags a subcommand accepts, read from its --help."""
    args = [ebb] + ([command] if command else []) + ["--help"]
    text = subprocess.run(args, capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"Env:(EBB_[A-Z0-9_]+)", text)), set(
        re.findall(r"(--[a-z][a-z0-9-]*)", text)
    )


def check_ebb_invocation(where, ebb, args, env_names, pending):
    """args: the container's arguments (subcommand first); env_names: EBB_* variables it sets."""
    if not args:
        fail(f"{where}: no ebb subcommand")
        return
    command = args[0]
    global_env, _ = ebb_help(ebb, None)
    command_env, command_flags = ebb_help(ebb, command)
    if not command_flags:
        fail(f"{where}: `ebb {command} --help` lists no flags: unknown subcommand?")
        return
    for name in sorted(env_names):
        if name not in command_env | global_env:
            fail(f"{where}: ebb {command} has no flag for {name}")
    for flag in args[1:]:
        if not str(flag).startswith("--"):
            continue
        flag = str(flag).split("=", 1)[0]
        if flag in command_flags:
            continue
        if flag in pending:
            print(f"pending: {where}: ebb {command} {flag} ({pending[flag]})")
        else:
            fail(f"{where}: ebb {command} has no flag {flag}")


def cmd_compose(schema_path, compose_path, ebb):
    import jsonschema

    raw = yaml.safe_load(Path(compose_path).read_text())
    # Defaults only: what `docker compose config` gives with no variables set.
    environment = {}
    document = interpolate(raw, environment)
    schema = json.loads(Path(schema_path).read_text())
    checker = jsonschema.FormatChecker()

    @checker.checks("duration", raises=ValueError)
    def is_duration(value):
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+", value):
            raise ValueError(f"{value!r} is not a Go duration")
        return True

    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        fail(
            f"{compose_path}: {'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        )
    if not errors:
        ok(f"{compose_path} matches the compose specification ({schema.get('title', 'schema')})")

    services = document.get("services", {})
    volumes = set((document.get("volumes") or {}).keys())
    for name, service in services.items():
        depends = service.get("depends_on", {})
        for target in (depends if isinstance(depends, list) else depends.keys()):
            if target not in services:
                fail(f"{compose_path}: service {name} depends on unknown service {target}")
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source", "")
            if source.startswith((".", "/")):
                path = Path(compose_path).parent / source
                if not path.exists():
                    fail(f"{compose_path}: service {name} mounts {source}, which does not exist")
            elif source and source not in volumes:
                fail(f"{compose_path}: service {name} uses undeclared volume {source}")
    consumer = services.get("consumer", {})
    for field in ("container_name", "ports"):
        if field in consumer:
            fail(f"{compose_path}: consumer has {field}: `--scale consumer=N` would collide")
    ebb_services = [
        name
        for name, service in services.items()
        if "deploy/docker/Dockerfile" in json.dumps(service.get("build", {}))
    ]
    if not ebb_services:
        fail(f"{compose_path}: no service builds deploy/docker/Dockerfile")
    for name in ebb_services:
        service = services[name]
        command = service.get("command", [])
        environment_names = [
            key for key in (service.get("environment") or {}) if key.startswith("EBB_")
        ]
        check_ebb_invocation(f"compose service {name}", ebb, command, environment_names, {})
        if "--http" not in command and "EBB_HTTP" not in (service.get("environment") or {}):
            fail(f"{compose_path}: ebb service {name} serves no /metrics (--http)")
    if not failures:
        ok(
            f"{compose_path}: {len(services)} services; ebb services {', '.join(ebb_services)} "
            "use only flags and EBB_* variables the binary has"
        )


# ---------------------------------------------------------------------------------------------
# Metric names


def declared_metrics(source_dirs):
    names = set()
    for directory in source_dirs:
        for path in Path(directory).rglob("*.cpp"):
            names.update(re.findall(r'"(ebb_[a-z0-9_]+)"', path.read_text()))
    return names


def cmd_metric_names(metrics_text, *source_dirs):
    declared = declared_metrics(source_dirs)
    served = set()
    for line in Path(metrics_text).read_text().splitlines():
        match = re.match(r"# TYPE (\S+) ", line)
        if match:
            served.add(match.group(1))
    if not served:
        fail(f"{metrics_text}: no metric families")
    for name in sorted(served - declared):
        fail(f"{metrics_text}: serves {name}, which no source declares")
    if served and served <= declared:
        ok(f"{metrics_text}: {len(served)} metric families, all declared in the sources")


# ---------------------------------------------------------------------------------------------
# Grafana dashboard


def cmd_dashboard(dashboard_path, rules_out, *source_dirs):
    declared = declared_metrics(source_dirs)
    if not declared:
        fail(f"no ebb_ metric names found in {source_dirs}")
        return
    try:
        dashboard = json.loads(Path(dashboard_path).read_text())
    except json.JSONDecodeError as error:
        fail(f"{dashboard_path}: not JSON: {error}")
        return
    for field in ("uid", "title", "panels", "schemaVersion", "templating"):
        if field not in dashboard:
            fail(f"{dashboard_path}: no {field}")
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource":
        fail(f"{dashboard_path}: needs a `datasource` variable of type datasource")

    def substitute(expr):
        # What Grafana puts in before Prometheus sees the query.
        expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
        return re.sub(r"\$\{?(\w+)\}?", ".*", expr)

    expressions = []
    for name, variable in variables.items():
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query":
            match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", query or "")
            if not match:
                fail(f"{dashboard_path}: variable {name}: expected label_values(SELECTOR, LABEL)")
                continue
            expressions.append((f"variable {name}", match.group(1)))
    ids, panels = set(), 0
    grid = {}

    def visit(panel_list):
        nonlocal panels
        for panel in panel_list:
            panels += 1
            pid = panel.get("id")
            if pid in ids:
                fail(f"{dashboard_path}: duplicate panel id {pid}")
            ids.add(pid)
            position = panel.get("gridPos", {})
            if (
                not all(key in position for key in ("h", "w", "x", "y"))
                or position.get("x", 0) + position.get("w", 0) > 24
            ):
                fail(f"{dashboard_path}: panel {pid} has no valid gridPos")
            for cell_y in range(position.get("y", 0), position.get("y", 0) + position.get("h", 0)):
                for cell_x in range(
                    position.get("x", 0), position.get("x", 0) + position.get("w", 0)
                ):
                    if (cell_x, cell_y) in grid:
                        fail(f"{dashboard_path}: panels {grid[(cell_x, cell_y)]} and {pid} overlap")
                        break
                    grid[(cell_x, cell_y)] = pid
            if panel.get("type") == "row":
                visit(panel.get("panels", []))
                continue
            if panel.get("datasource", {}).get("uid") != "${datasource}":
                fail(f"{dashboard_path}: panel {pid} does not use the $datasource variable")
            if not panel.get("targets"):
                fail(f"{dashboard_path}: panel {pid} ({panel.get('title')}) has no query")
            for target in panel.get("targets", []):
                expressions.append(
                    (
                        f"panel {pid} ({panel.get('title')}) {target.get('refId')}",
                        target.get("expr", ""),
                    )
                )

    visit(dashboard.get("panels", []))
    rules = []
    for where, expr in expressions:
        metrics = set(re.findall(r"\b(ebb_[a-z0-9_]+)", expr))
        if not metrics:
            fail(f"{dashboard_path}: {where} uses no ebb metric: {expr}")
        # A histogram family is queried through its _bucket, _sum and _count series.
        series = {re.sub(r"_(bucket|sum|count)$", "", m) if m not in declared else m for m in metrics}
        for metric in sorted(series - declared):
            fail(f"{dashboard_path}: {where} uses {metric}, which ebb does not export")
        rules.append({"record": f"dashboard:query_{len(rules)}", "expr": substitute(expr)})
    Path(rules_out).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    if not failures:
        ok(
            f"{dashboard_path}: {panels} panels, {len(expressions)} queries, every metric among the "
            f"{len(declared)} ebb exports; PromQL written to {rules_out} for promtool"
        )


# ---------------------------------------------------------------------------------------------
# Chart values documentation


def cmd_values_docs(chart_dir):
    chart = Path(chart_dir)
    lines = (chart / "values.yaml").read_text().splitlines()
    schema = json.loads((chart / "values.schema.json").read_text())
    values = yaml.safe_load("\n".join(lines)) or {}
    key_line = re.compile(r"^(\s*)([A-Za-z0-9_.\"-]+):(\s|$)")
    documented = set()
    stack = []  # (indent, path)
    keys = []
    for number, line in enumerate(lines):
        match = key_line.match(line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2).strip('"')
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (stack[-1][1] if stack else ()) + (key,)
        stack.append((indent, path))
        previous = number - 1
        while (
            previous >= 0
            and lines[previous].strip().startswith("#")
            and not lines[previous].strip().startswith("# --")
        ):
            previous -= 1
        if previous >= 0 and lines[previous].strip().startswith("# --"):
            documented.add(path)
        keys.append(path)

    def value_at(path):
        node = values
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def is_covered(path):
        # A key is documented itself or through an ancestor's `# --` (a free-form default map).
        return any(path[:i] in documented for i in range(1, len(path) + 1))

    missing = []
    for path in keys:
        if is_covered(path):
            continue
        value = value_at(path)
        if isinstance(value, dict) and value:
            continue  # a section: its children are checked
        missing.append(".".join(path))
    for name in missing:
        fail(f"{chart}/values.yaml: {name} has no `# --` comment")

    def schema_paths(node, prefix=()):
        for key, child in node.get("properties", {}).items():
            if key == "global":
                continue
            yield prefix + (key,)
            if child.get("additionalProperties") is False:
                yield from schema_paths(child, prefix + (key,))

    for path in schema_paths(schema):
        if value_at(path[:-1]) is not None and path[-1] not in (value_at(path[:-1]) or {}):
            fail(
                f"{chart}: values.schema.json declares {'.'.join(path)} but values.yaml has no default"
            )
    if not failures:
        ok(
            f"{chart}/values.yaml: all {len(keys)} keys documented with `# --` (or by their section)"
        )


# ---------------------------------------------------------------------------------------------
# Rendered manifests


def containers_of(doc):
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", [])


def cmd_keda_triggers(scalers_path, *manifests):
    catalogue = json.loads(Path(scalers_path).read_text())
    scalers = {entry["type"]: entry for entry in catalogue["scalers"]}
    seen = 0
    for manifest in manifests:
        for doc in load_all(manifest):
            if doc.get("kind") != "ScaledObject":
                continue
            for trigger in doc["spec"].get("triggers", []):
                seen += 1
                where = f"{manifest}: {doc['metadata']['name']} trigger {trigger['type']}"
                scaler = scalers.get(trigger["type"])
                if not scaler:
                    fail(f"{where}: KEDA {catalogue.get('kedaVersion')} has no scaler of this type")
                    continue
                metadata = trigger.get("metadata", {})
                parameters = {p["name"]: p for p in scaler["parameters"]}
                for name, value in metadata.items():
                    parameter = parameters.get(name)
                    if parameter is None:
                        # The external scaler hands its metadata to the scaler it calls.
                        if trigger["type"] != "external":
                            fail(f"{where}: unknown metadata {name}")
                        continue
                    if not parameter.get("metadataVariableReadable"):
                        fail(
                            f"{where}: {name} is not read from metadata (TriggerAuthentication only)"
                        )
                    allowed = parameter.get("allowedValue")
                    if allowed and value not in allowed:
                        fail(f"{where}: {name}={value!r} not in {allowed}")
                    if (
                        "default" in parameter
                        and re.fullmatch(r"-?[0-9]+", str(parameter["default"]))
                        and not re.fullmatch(r"-?[0-9]+", str(value))
                    ):
                        fail(f"{where}: {name}={value!r} is not an integer")
                    if str(parameter.get("default")) in ("true", "false") and value not in (
                        "true",
                        "false",
                    ):
                        fail(f"{where}: {name}={value!r} is not true or false")
                for name, parameter in parameters.items():
                    required = not parameter.get("optional") and "default" not in parameter
                    readable_elsewhere = parameter.get(
                        "triggerAuthenticationVariableReadable"
                    ) or parameter.get("envVariableReadable")
                    if (
                        required
                        and name not in metadata
                        and not (
                            readable_elsewhere
                            and ("authenticationRef" in trigger or f"{name}FromEnv" in metadata)
                        )
                    ):
                        if parameter.get("metadataVariableReadable"):
                            fail(f"{where}: required metadata {name} is missing")
    if seen and not failures:
        ok(
            f"{len(manifests)} manifests: {seen} ScaledObject triggers match KEDA "
            f"{catalogue.get('kedaVersion')}'s scaler metadata schema"
        )


def cmd_ebb_flags(ebb, *manifests):
    pending = {}  # flag -> why the binary may not have it yet
    checked = 0
    for manifest in manifests:
        for doc in load_all(manifest):
            for container in containers_of(doc):
                if "ebb" not in container.get("image", ""):
                    continue
                names = [
                    e["name"] for e in container.get("env", []) if e["name"].startswith("EBB_")
                ]
                # Helper variables only referenced as $(NAME) by other variables are not flags.
                referenced = {
                    m
                    for e in container.get("env", [])
                    for m in re.findall(r"\$\((EBB_[A-Z0-9_]+)\)", str(e.get("value", "")))
                }
                check_ebb_invocation(
                    f"{Path(manifest).name}: {doc['kind']} {doc['metadata']['name']}",
                    ebb,
                    container.get("args", []),
                    [n for n in names if n not in referenced],
                    pending,
                )
                checked += 1
    if not failures:
        ok(
            f"{checked} ebb containers in {len(manifests)} manifests: subcommands, flags and EBB_* "
            "variables exist in the binary"
        )


def quantity_bytes(text):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    return float(match.group(1)) * units.get(match.group(2), 1) if match else None


def check_consumer_pod(where, pod):
    """The consumer pod: drain shorter than termination, probes, security context, memory limit.
    Returns the drain (--grace-period) in seconds."""
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    grace = float(env.get("EBB_GRACE_PERIOD", 10))
    if pod.get("terminationGracePeriodSeconds", 30) <= grace:
        fail(
            f"{where}: terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds')} "
            f"<= --grace-period {grace}"
        )
    probes = (
        container.get("livenessProbe", {}).get("httpGet", {}).get("path"),
        container.get("readinessProbe", {}).get("httpGet", {}).get("path"),
    )
    if probes != ("/healthz", "/readyz"):
        fail(f"{where}: consumer probes are {probes}, expected /healthz and /readyz")
    security = container.get("securityContext", {})
    pod_security = pod.get("securityContext", {})
    if not (
        pod_security.get("runAsNonRoot")
        and security.get("readOnlyRootFilesystem")
        and security.get("allowPrivilegeEscalation") is False
        and "ALL" in security.get("capabilities", {}).get("drop", [])
    ):
        fail(f"{where}: consumer is not non-root, read-only, no-escalation, drop ALL")
    limit = quantity_bytes(container.get("resources", {}).get("limits", {}).get("memory", "0"))
    if not limit or limit > 128 * 2**20:
        fail(f"{where}: consumer memory limit {limit} is not within 128 MiB")
    return grace


def cmd_chart_invariants(case, mode, manifest):
    docs = load_all(manifest)
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    consumers = [
        d for d in by_kind.get("Deployment", []) if d["metadata"]["name"].endswith("-consumer")
    ]
    where = f"{case}"
    if len(consumers) != 1:
        fail(f"{where}: expected one consumer Deployment, found {len(consumers)}")
        return
    consumer = consumers[0]
    has_replicas = "replicas" in consumer["spec"]
    if (mode == "none") != has_replicas:
        fail(
            f"{where}: consumer Deployment {'has' if has_replicas else 'lacks'} spec.replicas in mode {mode}"
        )
    scaled = by_kind.get("ScaledObject", [])
    hpas = by_kind.get("HorizontalPodAutoscaler", [])
    expect_scaled = mode in ("keda-kafka", "keda-ebb")
    if len(scaled) != (1 if expect_scaled else 0) or len(hpas) != (1 if mode == "hpa" else 0):
        fail(f"{where}: mode {mode} rendered {len(scaled)} ScaledObject(s) and {len(hpas)} HPA(s)")
    for owner in scaled + hpas:
        target = owner["spec"]["scaleTargetRef"]
        if target.get("kind") != "Deployment" or target.get("name") != consumer["metadata"]["name"]:
            fail(f"{where}: {owner['kind']} targets {target}, not the consumer Deployment")
    if mode == "keda-ebb":
        trigger = scaled[0]["spec"]["triggers"][0]
        services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
        address = trigger.get("metadata", {}).get("scalerAddress", "")
        host, _, port = address.rpartition(":")
        service = services.get(host.split(".")[0])
        if (
            trigger["type"] != "external"
            or not service
            or int(port) not in [p["port"] for p in service["spec"]["ports"]]
        ):
            fail(f"{where}: external trigger {address!r} does not reach the scaler Service")
        scaler = [
            d for d in by_kind.get("Deployment", []) if d["metadata"]["name"].endswith("-scaler")
        ]
        if not scaler or "--serve-keda" not in containers_of(scaler[0])[0].get("args", []):
            fail(f"{where}: no `ebb scale --serve-keda` Deployment")
    pod = consumer["spec"]["template"]["spec"]
    grace = check_consumer_pod(where, pod)
    if not by_kind.get("PodDisruptionBudget"):
        fail(f"{where}: no PodDisruptionBudget")
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        for label in (
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ):
            if label not in labels:
                fail(f"{where}: {doc['kind']} {doc['metadata']['name']} lacks label {label}")
    if case.startswith("secured"):
        check_secured(where, mode, docs, by_kind)
    if not failures:
        ok(
            f"{where}: replicas owned by {mode if mode != 'none' else 'the Deployment'}, "
            f"drain {grace:g} s < termination {pod.get('terminationGracePeriodSeconds')} s, probes, "
            "security context, memory <= 128 MiB, PDB, standard labels"
        )


# The password the secured check cases give the chart (scripts/check-deploy.sh).
SECURED_PASSWORD = "chart-check-password"


def check_secured(where, mode, docs, by_kind):
    """kafka.sasl/kafka.tls: the password only in a Secret; every ebb container reads it through a
    secretKeyRef defined before the EBB_PROPERTIES that expands it, and mounts the CA; KEDA's
    kafka trigger authenticates with the same Secrets."""
    import base64

    encoded = base64.b64encode(SECURED_PASSWORD.encode()).decode()
    for doc in docs:
        text = yaml.safe_dump(doc)
        if doc["kind"] != "Secret" and (SECURED_PASSWORD in text or encoded in text):
            fail(f"{where}: the password is in {doc['kind']} {doc['metadata']['name']}")
    for deployment in by_kind.get("Deployment", []):
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            name = f"{deployment['metadata']['name']}/{container['name']}"
            env = [e["name"] for e in container.get("env", [])]
            values = {e["name"]: e for e in container.get("env", [])}
            password = values.get("EBB_SASL_PASSWORD", {}).get("valueFrom", {})
            properties = values.get("EBB_PROPERTIES", {}).get("value", "")
            if "secretKeyRef" not in password:
                fail(f"{where}: {name} does not read EBB_SASL_PASSWORD from a Secret")
            elif env.index("EBB_SASL_PASSWORD") > env.index("EBB_PROPERTIES"):
                fail(f"{where}: {name} defines EBB_SASL_PASSWORD after EBB_PROPERTIES expands it")
            for wanted in (
                "security.protocol=SASL_SSL",
                "sasl.password=$(EBB_SASL_PASSWORD)",
                "ssl.ca.location=/etc/ebb/kafka-ca/ca.crt",
            ):
                if wanted not in properties.split(";"):
                    fail(f"{where}: {name}: EBB_PROPERTIES lacks {wanted}")
            mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
            ca = mounts.get("kafka-ca", {})
            if ca.get("mountPath") != "/etc/ebb/kafka-ca" or "secret" not in volumes.get(
                "kafka-ca", {}
            ):
                fail(f"{where}: {name} does not mount the CA Secret at /etc/ebb/kafka-ca")
    if mode == "keda-kafka":
        auths = {d["metadata"]["name"]: d for d in by_kind.get("TriggerAuthentication", [])}
        trigger = by_kind["ScaledObject"][0]["spec"]["triggers"][0]
        auth = auths.get(trigger.get("authenticationRef", {}).get("name"), {})
        parameters = {r["parameter"] for r in auth.get("spec", {}).get("secretTargetRef", [])}
        metadata = trigger.get("metadata", {})
        if parameters != {"username", "password", "ca"} or metadata.get("tls") != "enable":
            fail(f"{where}: KEDA's kafka trigger lacks the credentials or TLS ({parameters})")
    if not failures:
        ok(f"{where}: password only in a Secret, secretKeyRef env, CA mounted, KEDA authenticated")


def cmd_break_manifest(kind, source, target):
    docs = load_all(source)
    for doc in docs:
        if doc.get("kind") == kind:
            (doc["spec"] if isinstance(doc.get("spec"), dict) else doc)["notAField"] = True
            Path(target).write_text(yaml.safe_dump_all([doc]))
            return
    fail(f"{source}: no {kind} to break")


# ---------------------------------------------------------------------------------------------
# Dockerfile (no engine here: what can be checked without building)


def dockerfile_instructions(path):
    text = re.sub(r"\\\n", " ", Path(path).read_text())
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            yield word.upper(), rest.strip()


def cmd_dockerfile(dockerfile, dockerignore, ebb, repo_root):
    import fnmatch

    stages = []
    for word, rest in dockerfile_instructions(dockerfile):
        if word == "FROM":
            stages.append({"from": rest, "run": [], "other": []})
        elif stages:
            (stages[-1]["run"] if word == "RUN" else stages[-1]["other"]).append((word, rest))
    if len(stages) < 2:
        fail(f"{dockerfile}: expected a build stage and a runtime stage")
        return
    build, runtime = stages[0], stages[-1]
    if not build["from"].startswith("debian:bookworm "):
        fail(f"{dockerfile}: build stage is {build['from']!r}, not Debian bookworm")
    build_runs = " ".join(rest for _, rest in build["run"])
    for script in ("scripts/bootstrap.sh build", "scripts/build.sh release"):
        if script not in build_runs:
            fail(f"{dockerfile}: the build stage does not run {script} (the commands CI runs)")
    if not runtime["from"].startswith("debian:bookworm-slim"):
        fail(f"{dockerfile}: runtime stage is {runtime['from']!r}, not debian:bookworm-slim")
    other = dict(runtime["other"])
    user = other.get("USER", "0").split(":")[0]
    if not user.isdigit() or user == "0":
        fail(f"{dockerfile}: runtime USER {other.get('USER')!r} is not a numeric non-root uid")
    try:
        entrypoint = json.loads(other.get("ENTRYPOINT", ""))
    except json.JSONDecodeError:
        entrypoint = None
    if not (isinstance(entrypoint, list) and entrypoint and entrypoint[0].endswith("/ebb")):
        fail(
            f'{dockerfile}: ENTRYPOINT must be the exec form ["/usr/local/bin/ebb"] (PID 1 gets '
            f"SIGTERM), got {other.get('ENTRYPOINT')!r}"
        )
    # Every shared library the binary loads comes from a package the runtime stage installs (or
    # from librdkafka, copied from the build stage).
    runtime_runs = " ".join(rest for _, rest in runtime["run"])
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+|ca-certificates|zlib1g)\b", runtime_runs))
    in_base = {"libc6", "libgcc-s1"}  # essential in debian:bookworm-slim
    sanitizer = re.compile(r"lib(asan|ubsan|lsan|tsan)\.so")
    ldd = subprocess.run(["ldd", ebb], capture_output=True, text=True, check=False).stdout
    libraries = 0
    for line in ldd.splitlines():
        match = re.match(r"\s*(\S+) => (\S+)", line)
        if not match or sanitizer.search(match.group(1)):
            continue
        name, path = match.groups()
        libraries += 1
        if "librdkafka" in name:
            if "librdkafka.so.1" not in " ".join(rest for _, rest in runtime["other"]):
                fail(f"{dockerfile}: the runtime stage does not copy librdkafka.so.1")
            continue
        owner = subprocess.run(
            ["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True, check=False
        ).stdout
        if not owner:
            owner = subprocess.run(
                ["dpkg", "-S", path], capture_output=True, text=True, check=False
            ).stdout
        package = owner.split(":")[0].strip() if owner else ""
        if not package:
            fail(f"{dockerfile}: no Debian package owns {path} ({name})")
        elif package not in installed | in_base:
            fail(
                f"{dockerfile}: the binary needs {name} from {package}, which the runtime stage "
                "does not install"
            )
    if libraries == 0:
        fail(f"ldd {ebb} listed no libraries")
    patterns = [
        p.strip()
        for p in Path(dockerignore).read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    for needed in ("CMakeLists.txt", "cmake", "src", "include", "apps", "scripts", "tests"):
        if (Path(repo_root) / needed).exists() and any(
            fnmatch.fnmatch(needed, p) for p in patterns
        ):
            fail(f"{dockerignore}: excludes {needed}, which scripts/build.sh release needs")
    for excluded in (".git", ".cache", "build"):
        if not any(fnmatch.fnmatch(excluded, p) for p in patterns):
            fail(f"{dockerignore}: does not exclude {excluded}")
    if not failures:
        ok(
            f"{dockerfile}: builds with scripts/bootstrap.sh build and scripts/build.sh release on "
            f"bookworm; runtime bookworm-slim as uid {user}, exec-form ENTRYPOINT, and the "
            f"{libraries} libraries ebb loads all installed; {dockerignore} keeps the sources"
        )


# ---------------------------------------------------------------------------------------------
# Argo CD and helmfile


def cmd_argocd(application, applicationset, repo_root):
    root = Path(repo_root)
    apps = []
    for doc in load_all(application):
        apps.append(("Application", doc["spec"], {}))
    for doc in load_all(applicationset):
        elements = [
            e for g in doc["spec"]["generators"] for e in g.get("list", {}).get("elements", [])
        ]
        envs = sorted(e.get("env") for e in elements)
        if envs != ["dev", "prod"]:
            fail(f"{applicationset}: environments {envs}, expected dev and prod")
        for element in elements:
            apps.append(
                (f"ApplicationSet element {element}", doc["spec"]["template"]["spec"], element)
            )
    for where, spec, element in apps:

        def fill(text):
            return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: str(element[m.group(1)]), text)

        source = spec["source"]
        chart = root / fill(source["path"])
        if not (chart / "Chart.yaml").exists():
            fail(f"{where}: path {source['path']} is not a chart")
        for values in source.get("helm", {}).get("valueFiles", []):
            if not (chart / fill(values)).resolve().is_file():
                fail(f"{where}: value file {fill(values)} does not exist")
        ignores = [
            i
            for i in spec.get("ignoreDifferences", [])
            if i.get("kind") == "Deployment"
            and i.get("group") == "apps"
            and "/spec/replicas" in i.get("jsonPointers", [])
        ]
        release = source.get("helm", {}).get("releaseName")
        if not ignores or ignores[0].get("name") != f"{release}-consumer":
            fail(
                f"{where}: no ignoreDifferences on /spec/replicas of Deployment {release}-consumer"
            )
        if "RespectIgnoreDifferences=true" not in spec.get("syncPolicy", {}).get("syncOptions", []):
            fail(f"{where}: sync would still apply /spec/replicas (RespectIgnoreDifferences=true)")
    if not failures:
        ok(
            f"Argo CD: {len(apps)} applications point at the chart with existing value files and leave "
            "the consumer's /spec/replicas to the autoscaler"
        )


def cmd_helmfile(helmfile):
    base = Path(helmfile).parent
    parts = load_all(helmfile)
    merged = {}
    for part in parts:
        merged.update(part)
    envs = sorted((merged.get("environments") or {}).keys())
    if envs != ["dev", "prod"]:
        fail(f"{helmfile}: environments {envs}, expected dev and prod")
    repositories = {r["name"] for r in merged.get("repositories", [])}
    releases = {f"{r.get('namespace', '')}/{r['name']}": r for r in merged.get("releases", [])}
    for key, release in releases.items():
        chart = release["chart"]
        if chart.startswith("./"):
            if not (base / chart / "Chart.yaml").exists():
                fail(f"{helmfile}: {key}: local chart {chart} not found")
        elif chart.split("/")[0] not in repositories:
            fail(f"{helmfile}: {key}: repository of {chart} is not declared")
        elif "version" not in release:
            fail(f"{helmfile}: {key}: remote chart {chart} has no pinned version")
        for need in release.get("needs", []):
            if need not in releases:
                fail(f"{helmfile}: {key} needs {need}, which is not a release")
        for env in envs:
            for values in release.get("values", []):
                if isinstance(values, str):
                    path = base / values.replace("{{ .Environment.Name }}", env)
                    if not path.is_file():
                        fail(f"{helmfile}: {key} ({env}): values file {path} not found")
                    else:
                        print(f"render {env} {base / chart} {path}")
    wanted = {"strimzi-kafka-operator", "keda", "helm/kafka-cluster", "helm/ebb"}
    present = {w for w in wanted for r in releases.values() if r["chart"].endswith(w)}
    if present != wanted:
        fail(f"{helmfile}: missing releases for {sorted(wanted - present)}")
    if not failures:
        ok(
            f"{helmfile}: {len(releases)} releases in order ({', '.join(releases)}), "
            f"environments {', '.join(envs)}"
        )


def main(argv):
    commands = {
        "k8s-schemas": cmd_k8s_schemas,
        "crd-schemas": cmd_crd_schemas,
        "compose": cmd_compose,
        "dashboard": cmd_dashboard,
        "values-docs": cmd_values_docs,
        "keda-triggers": cmd_keda_triggers,
        "ebb-flags": cmd_ebb_flags,
        "chart-invariants": cmd_chart_invariants,
        "argocd": cmd_argocd,
        "helmfile": cmd_helmfile,
        "metric-names": cmd_metric_names,
        "break-manifest": cmd_break_manifest,
        "dockerfile": cmd_dockerfile,
    }
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[argv[1]](*argv[2:])
    finish()


if __name__ == "__main__":
    main(sys.argv)
