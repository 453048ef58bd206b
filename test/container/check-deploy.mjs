// Offline checks of the deployment files, run by scripts/container-test.sh (no cluster, no Docker):
//   node test/container/check-deploy.mjs [--k8s deploy/k8s] [--compose docker-compose.yml]
//                                        [--settings <file with `zai-proxy --help` output>]
// deploy/k8s/*.yaml: every document parses, validates against the Kubernetes OpenAPI schema of
// its apiVersion/kind (kubernetes-models), and carries what docs/DEPLOY.md promises: replicas,
// probes, resources, the security context, Service/HPA/PDB aimed at the Deployment, and the
// ConfigMap/Secret split. docker-compose.yml: the service, restart policy, healthcheck, log
// rotation, grace period and the demo profile (dclint checks it against the Compose schema).
// With --settings, every variable the files set must be a real setting of the binary.
// Prints one line per check and "N passed, N failed"; exits 1 if any failed.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const k8sDir = args.k8s ?? 'deploy/k8s';
const composeFile = args.compose ?? 'docker-compose.yml';

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || !detail ? '' : `: ${detail}`}`);
}
function attempt(name, fn) {
  try {
    fn();
    check(name, true);
  } catch (e) {
    check(name, false, String(e.message ?? e).split('\n').slice(0, 4).join(' | '));
  }
}

// After SIGTERM the proxy lets requests finish for SHUTDOWN_GRACE_MS (default 25 s,
// src/core/config.hpp): each file's kill must come later than the drain that file configures.
const DEFAULT_DRAIN_MS = 25_000;
const drainSeconds = (ms) => Math.ceil(Number(ms ?? DEFAULT_DRAIN_MS) / 1000);
const MODELS = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

// The schema validators ignore fields they do not know, where the API server's strict field
// validation rejects them. The validators read every field their schema defines and enumerate only
// free-form maps (labels, data, resources), so a field that was never read is unknown.
function unknownFields(Model, obj) {
  const read = new WeakMap();
  const maps = new WeakSet();
  const wrap = (v) => (v !== null && typeof v === 'object' ? new Proxy(v, spy) : v);
  const spy = {
    get(target, key, receiver) {
      if (typeof key === 'string') {
        if (!read.has(target)) read.set(target, new Set());
        read.get(target).add(key);
      }
      return wrap(Reflect.get(target, key, receiver));
    },
    ownKeys(target) {
      maps.add(target);
      return Reflect.ownKeys(target);
    },
  };
  try {
    Model.prototype.validate.call(wrap(obj));
  } catch {
    // reported by the schema check itself
  }
  const unknown = [];
  const walk = (v, path) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (!maps.has(v) && !read.get(v)?.has(k)) unknown.push(`${path}.${k}`);
        walk(x, `${path}.${k}`);
      }
  };
  walk(obj, '');
  return unknown;
}

const settings = args.settings
  ? new Set([...readFileSync(args.settings, 'utf8').matchAll(/^ {2}--\S+.*?\s([A-Z][A-Z0-9_]+) \(default:/gm)].map((m) => m[1]))
  : null;
if (settings) check(`--help lists the settings (${settings?.size})`, settings.size >= 20 && settings.has('API_KEY'));

// ---- Kubernetes ----
const objects = [];
for (const file of readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
  const docs = parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8'));
  for (const doc of docs) {
    const where = `${file}`;
    check(`${where} parses as YAML`, doc.errors.length === 0, doc.errors.map((e) => e.message).join('; '));
    const obj = doc.toJS();
    if (!obj) continue;
    const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
    check(`${where}: ${obj.apiVersion} ${obj.kind} is an expected kind`, Boolean(Model));
    if (Model) {
      attempt(`${where}: ${obj.kind}/${obj.metadata?.name} matches the Kubernetes schema`, () => new Model(obj).validate());
      const unknown = unknownFields(Model, obj);
      check(`${where}: no field unknown to the schema (kubectl's strict validation)`, unknown.length === 0, unknown.join(', '));
    }
    objects.push(obj);
  }
}
const one = (kind) => {
  const found = objects.filter((o) => o.kind === kind);
  check(`deploy/k8s has exactly one ${kind}`, found.length === 1, `found ${found.length}`);
  return found[0] ?? {};
};
const deployment = one('Deployment');
const service = one('Service');
const hpa = one('HorizontalPodAutoscaler');
const pdb = one('PodDisruptionBudget');
const configMap = one('ConfigMap');
const secret = one('Secret');

const pod = deployment.spec?.template?.spec ?? {};
const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
const matches = (selector) =>
  Boolean(selector) && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
const containers = pod.containers ?? [];
check('the Deployment runs one container', containers.length === 1, `found ${containers.length}`);
const c = containers[0] ?? {};
const port = (c.ports ?? []).find((p) => p.containerPort === 3000);
check('the container exposes port 3000', Boolean(port));
const probePort = (probe) => probe?.httpGet?.port === port?.containerPort || (port?.name && probe?.httpGet?.port === port.name);

check('Deployment replicas >= 2', deployment.spec?.replicas >= 2, `replicas ${deployment.spec?.replicas}`);
check('Deployment selector matches its pod labels', matches(deployment.spec?.selector?.matchLabels));
check('readiness probe is GET /readyz on the container port', c.readinessProbe?.httpGet?.path === '/readyz' && probePort(c.readinessProbe));
check('liveness probe is GET /healthz on the container port', c.livenessProbe?.httpGet?.path === '/healthz' && probePort(c.livenessProbe));
for (const kind of ['requests', 'limits'])
  for (const r of ['cpu', 'memory'])
    check(`resources.${kind}.${r} set`, c.resources?.[kind]?.[r] !== undefined);
const effective = (field) => c.securityContext?.[field] ?? pod.securityContext?.[field];
check('runs as non-root (runAsNonRoot and a non-zero runAsUser)', effective('runAsNonRoot') === true && effective('runAsUser') > 0);
check('read-only root filesystem', c.securityContext?.readOnlyRootFilesystem === true);
check('no privilege escalation', c.securityContext?.allowPrivilegeEscalation === false);
check('all capabilities dropped', (c.securityContext?.capabilities?.drop ?? []).includes('ALL'));
const k8sDrain = drainSeconds(configMap.data?.SHUTDOWN_GRACE_MS);
check(`terminationGracePeriodSeconds > the proxy's ${k8sDrain} s drain plus preStop`,
  (pod.terminationGracePeriodSeconds ?? 30) > k8sDrain + (c.lifecycle?.preStop?.sleep?.seconds ?? 0),
  `${pod.terminationGracePeriodSeconds}`);
check('a rolling update never drops below the replica count', deployment.spec?.strategy?.rollingUpdate?.maxUnavailable === 0);

const fromConfigMap = (c.envFrom ?? []).some((e) => e.configMapRef?.name === configMap.metadata?.name);
const fromSecret = (c.envFrom ?? []).some((e) => e.secretRef?.name === secret.metadata?.name) ||
  (c.env ?? []).some((e) => e.name === 'API_KEY' && e.valueFrom?.secretKeyRef?.name === secret.metadata?.name);
check('the container takes its settings from the ConfigMap', fromConfigMap);
check('the container takes API_KEY from the Secret', fromSecret);
const secretKeys = Object.keys({ ...secret.data, ...secret.stringData });
check('the Secret holds API_KEY', secretKeys.includes('API_KEY'), secretKeys.join(','));
check('the ConfigMap does not hold API_KEY', !('API_KEY' in (configMap.data ?? {})));
check('ConfigMap values are strings', Object.values(configMap.data ?? {}).every((v) => typeof v === 'string'));
if (settings) {
  const unknown = [...Object.keys(configMap.data ?? {}), ...secretKeys, ...(c.env ?? []).map((e) => e.name)].filter((k) => !settings.has(k));
  check('every variable the manifests set is a zai-proxy setting', unknown.length === 0, unknown.join(','));
}

check('Service selects the Deployment pods', matches(service.spec?.selector));
const svcPort = (service.spec?.ports ?? [])[0] ?? {};
check('Service targets the container port', svcPort.targetPort === port?.name || svcPort.targetPort === port?.containerPort);
check('HPA scales the Deployment', hpa.spec?.scaleTargetRef?.kind === 'Deployment' && hpa.spec?.scaleTargetRef?.name === deployment.metadata?.name);
check('HPA keeps >= 2 replicas and can grow', hpa.spec?.minReplicas >= 2 && hpa.spec?.maxReplicas > hpa.spec?.minReplicas);
check('PDB selects the Deployment pods', matches(pdb.spec?.selector?.matchLabels));
check('PDB allows a disruption with the minimum replicas',
  pdb.spec?.minAvailable !== undefined ? pdb.spec.minAvailable < (hpa.spec?.minReplicas ?? deployment.spec?.replicas) : pdb.spec?.maxUnavailable >= 1);

// ---- Compose ----
const compose = parseYaml(readFileSync(composeFile, 'utf8'), { merge: true });
const proxy = compose?.services?.['zai-proxy'] ?? {};
check('compose: service zai-proxy builds the root Dockerfile', proxy.build === '.' || proxy.build?.context === '.');
check('compose: publishes container port 3000', (proxy.ports ?? []).some((p) => String(p).endsWith(':3000')));
check('compose: restart unless-stopped', proxy.restart === 'unless-stopped');
check('compose: healthcheck runs the binary\'s probe', JSON.stringify(proxy.healthcheck?.test ?? []).includes('--health-probe'));
check('compose: json-file log rotation (max-size, max-file)',
  proxy.logging?.driver === 'json-file' && Boolean(proxy.logging?.options?.['max-size']) && Boolean(proxy.logging?.options?.['max-file']));
const env = proxy.environment ?? {};
const composeDrain = drainSeconds(/^\$\{SHUTDOWN_GRACE_MS:-(\d+)\}$/.exec(env.SHUTDOWN_GRACE_MS ?? '')?.[1]);
const grace = /^(\d+)s$/.exec(proxy.stop_grace_period ?? '');
check(`compose: stop_grace_period > the proxy's ${composeDrain} s drain`,
  Boolean(grace) && Number(grace[1]) > composeDrain, proxy.stop_grace_period);
check('compose: every default is written out (${VAR:-default})',
  Object.entries(env).every(([k, v]) => typeof v === 'string' && v.startsWith(`\${${k}:-`)), JSON.stringify(env).slice(0, 200));
if (settings) {
  const unknown = Object.keys(env).filter((k) => !settings.has(k));
  check('compose: every variable is a zai-proxy setting', unknown.length === 0, unknown.join(','));
  const missing = [...settings].filter((k) => !(k in env) && k !== 'HOST' && k !== 'PORT');
  check('compose: every setting but HOST/PORT is listed', missing.length === 0, missing.join(','));
}
const demo = Object.entries(compose?.services ?? {}).filter(([, s]) => (s.profiles ?? []).includes('demo'));
check('compose: profile "demo" starts the fake Z.AI in the proxy\'s network namespace',
  demo.length === 1 && demo[0][1].network_mode === 'service:zai-proxy' && /fake-zai/.test(JSON.stringify(demo[0][1].build)));
check('compose: the proxy itself is in no profile (plain `up` starts it)', proxy.profiles === undefined);

console.log(`deploy: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
