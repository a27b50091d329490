#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Writes the AdmissionReview v1 request bodies the benchmark posts, shaped as
# kube-apiserver sends them: compact JSON, the object as stored after
# defaulting (managedFields, creationTimestamp, defaulted probe and
# resource fields), userInfo, requestKind/requestResource and CreateOptions.
#
#   pod-small.json    ~2.5 KB  a Pod a ReplicaSet controller creates
#   deployment.json   ~6 KB    a Deployment: two containers with probes,
#                              resources, env and volumes
#   pod-large.json    ~60 KB   a Pod with twenty containers and many env vars
#   pod-3mib.json     <3 MiB   the largest body the server accepts (memory test)
#
# Every object passes every policy of bench/config.yaml in enforce mode:
# most reviews in production are admitted, and an allowed review is the path
# whose cost is paid on every kubectl apply.
#
# Usage: gen_bodies.py OUTDIR
import json
import sys
import uuid

NS = "shop"
COMMIT = "3f9c2a7e1b"
TS = "2024-05-14T09:21:07Z"


def security_context():
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def probe(path, port, delay):
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": delay,
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def env_list(prefix, n):
    env = []
    for i in range(n):
        env.append({"name": "%s_SETTING_%02d" % (prefix, i),
                    "value": "value-%02d-for-%s" % (i, prefix.lower())})
    return env


def container(name, image, port, n_env, mounts):
    c = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "POD_NAME",
             "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "DB_PASSWORD",
             "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        ] + env_list(name.upper().replace("-", "_"), n_env),
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "livenessProbe": probe("/healthz", port, 10),
        "readinessProbe": probe("/readyz", port, 2),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "securityContext": security_context(),
        "volumeMounts": mounts,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    return c


def managed_fields(manager, operation, containers):
    """A managedFields entry as the API server stores it (fieldsV1 trie)."""
    fields = {"f:metadata": {"f:labels": {".": {}, "f:app.kubernetes.io/name": {}}},
              "f:spec": {}}
    spec = fields["f:spec"]
    for c in containers:
        key = 'k:{"name":"%s"}' % c["name"]
        entry = {".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                 "f:resources": {".": {}, "f:limits": {".": {}, "f:memory": {}},
                                 "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
                 "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}
        envs = {".": {}}
        for e in c["env"]:
            envs['k:{"name":"%s"}' % e["name"]] = {".": {}, "f:name": {}, "f:value": {}}
        entry["f:env"] = envs
        spec.setdefault("f:containers", {})[key] = entry
    return [{"manager": manager, "operation": operation, "apiVersion": "v1", "time": TS,
             "fieldsType": "FieldsV1", "fieldsV1": fields}]


def pod_metadata(name, labels, owner):
    meta = {
        "name": name,
        "generateName": name.rsplit("-", 1)[0] + "-",
        "namespace": NS,
        "uid": str(uuid.UUID(int=0x1234)),
        "creationTimestamp": TS,
        "labels": labels,
        "annotations": {"team.example.com/owner": "checkout",
                        "kubectl.kubernetes.io/restartedAt": TS},
    }
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                    "name": name.rsplit("-", 1)[0],
                                    "uid": str(uuid.UUID(int=0x5678)),
                                    "controller": True, "blockOwnerDeletion": True}]
    return meta


def pod_spec(containers, volumes):
    return {
        "containers": containers,
        "volumes": volumes,
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "web",
        "serviceAccount": "web",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "fsGroup": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
        ],
    }


def labels(app):
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop",
            "plimsoll.dev/commit": COMMIT, "pod-template-hash": "7d9c6b5f4"}


def review(kind, group, version, resource, name, obj, user):
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    return {
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, name + kind)),
            "kind": gvk, "resource": gvr,
            "requestKind": gvk, "requestResource": gvr,
            "name": name, "namespace": NS, "operation": "CREATE",
            "userInfo": user,
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1",
                        "fieldManager": user["username"].rsplit(":", 1)[-1]},
        },
    }


def controller_user():
    return {"username": "system:serviceaccount:kube-system:replicaset-controller",
            "uid": "8a3c0b7e-0000-4000-8000-000000000001",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                       "system:authenticated"]}


def small_pod():
    name = "web-7d9c6b5f4-x2lqp"
    c = container("web", "registry.example.com/shop/web:1.14.2-" + COMMIT, 8080, 0,
                  [{"name": "config", "mountPath": "/etc/web", "readOnly": True}])
    # A controller's Pod as small as they come: no ports (so no preStop
    # hook is needed), the pod-level securityContext carries runAsNonRoot
    # and seccomp.
    c["env"] = c["env"][:1]
    for key in ("ports", "lifecycle", "terminationMessagePath", "terminationMessagePolicy"):
        del c[key]
    c["securityContext"] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    spec = pod_spec([c], [{"name": "config", "configMap": {"name": "web", "defaultMode": 420}}])
    del spec["tolerations"]
    del spec["securityContext"]["fsGroup"]
    for key in ("preemptionPolicy", "priority", "enableServiceLinks"):
        del spec[key]
    obj = {"kind": "Pod", "apiVersion": "v1",
           "metadata": pod_metadata(name, labels("web"), True),
           "spec": spec}
    del obj["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    del obj["metadata"]["labels"]["app.kubernetes.io/part-of"]
    obj["metadata"]["managedFields"] = managed_fields("kube-controller-manager", "Update", [c])
    return review("Pod", "", "v1", "pods", name, obj, controller_user())


def deployment():
    name = "web"
    mounts = [{"name": "config", "mountPath": "/etc/web", "readOnly": True},
              {"name": "cache", "mountPath": "/var/cache/web"},
              {"name": "tls", "mountPath": "/etc/tls", "readOnly": True}]
    web = container("web", "registry.example.com/shop/web:1.14.2-" + COMMIT, 8080, 4, mounts)
    side = container("metrics", "registry.example.com/shop/exporter:0.9.1", 9102, 3, mounts[:1])
    volumes = [{"name": "config", "configMap": {"name": "web", "defaultMode": 420}},
               {"name": "cache", "emptyDir": {"sizeLimit": "256Mi"}},
               {"name": "tls", "secret": {"secretName": "web-tls", "defaultMode": 420}}]
    tpl_labels = labels("web")
    del tpl_labels["pod-template-hash"]
    obj = {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": NS, "uid": str(uuid.UUID(int=0x9abc)),
                     "generation": 1, "creationTimestamp": TS,
                     "labels": {"app.kubernetes.io/name": "web"},
                     "annotations": {"team.example.com/owner": "checkout",
                                     "deployment.kubernetes.io/revision": "1"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {"metadata": {"creationTimestamp": None, "labels": tpl_labels,
                                      "annotations": {"team.example.com/owner": "checkout"}},
                         "spec": pod_spec([web, side], volumes)},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        },
        "status": {},
    }
    obj["metadata"]["managedFields"] = managed_fields("kubectl-client-side-apply", "Update",
                                                      [web, side])
    user = {"username": "jane@example.com", "uid": "jane",
            "groups": ["shop-developers", "system:authenticated"],
            "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=0f3c"]}}
    return review("Deployment", "apps", "v1", "deployments", name, obj, user)


def large_pod(n_containers, n_env, name):
    mounts = [{"name": "config", "mountPath": "/etc/app", "readOnly": True}]
    cs = []
    for i in range(n_containers):
        cs.append(container("worker-%02d" % i,
                            "registry.example.com/shop/worker-%02d:2.3.%d" % (i, i),
                            8000 + i, n_env, mounts))
    obj = {"kind": "Pod", "apiVersion": "v1",
           "metadata": pod_metadata(name, labels("batch"), True),
           "spec": pod_spec(cs, [{"name": "config",
                                  "configMap": {"name": "batch", "defaultMode": 420}}]),
           "status": {"phase": "Pending", "qosClass": "Burstable"}}
    obj["metadata"]["managedFields"] = managed_fields("kube-controller-manager", "Update", cs)
    return review("Pod", "", "v1", "pods", name, obj, controller_user())


def write(outdir, name, doc, limit=None):
    text = json.dumps(doc, separators=(",", ":"))
    if limit is not None and len(text) > limit:
        sys.exit("gen_bodies: %s is %d bytes, over %d" % (name, len(text), limit))
    with open("%s/%s" % (outdir, name), "w", encoding="utf-8") as f:
        f.write(text)
    print("%-16s %8d bytes" % (name, len(text)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_bodies.py OUTDIR")
    out = sys.argv[1]
    write(out, "pod-small.json", small_pod())
    write(out, "deployment.json", deployment())
    write(out, "pod-large.json", large_pod(20, 8, "batch-6c8f7d9b5-k4m2n"))
    # Just under the 3 MiB limit: the memory bound under load.
    write(out, "pod-3mib.json", large_pod(120, 160, "huge-6c8f7d9b5-k4m2n"), 3 * 1024 * 1024)


if __name__ == "__main__":
    main()
