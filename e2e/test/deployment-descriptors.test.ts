import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type Joi from 'joi';
import { parse, parseAllDocuments } from 'yaml';

// docker-compose.yml and infra/k8s are checked statically here: they parse, name every service, and
// give each one an environment its own config accepts in production mode, with ports and probe paths
// that match the code. `npm run test:compose` runs the compose file for real.

const ROOT = path.resolve(__dirname, '../..');
const SERVICES = readdirSync(path.join(ROOT, 'services')).filter((s) =>
  existsSync(path.join(ROOT, 'services', s, 'package.json')),
);

function schemaOf(service: string): Joi.ObjectSchema {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- each service's own config module
  const mod = require(path.join(ROOT, 'services', service, 'src/config')) as {
    configSchema?: Joi.ObjectSchema;
  };
  if (!mod.configSchema) throw new Error(`services/${service}/src/config.ts exports no configSchema`);
  return mod.configSchema;
}

/** `own` are the keys set for this service alone: each must be one its config knows (no typos). */
function checkEnv(service: string, env: Record<string, string>, own: string[] = Object.keys(env)) {
  const schema = schemaOf(service);
  const known = new Set(Object.keys(schema.describe().keys ?? {}));
  const unknown = own.filter((k) => !known.has(k));
  expect({ service, unknown }).toEqual({ service, unknown: [] });
  const { error } = schema.validate(env, { abortEarly: false, allowUnknown: true });
  expect({ service, problems: error?.details.map((d) => d.message) ?? [] }).toEqual({
    service,
    problems: [],
  });
}

/** `${VAR:-default}` and `${VAR:?msg}` as compose resolves them with nothing set. */
const interpolate = (v: unknown): string =>
  String(v).replace(
    /\$\{[A-Z0-9_]+(?::?-([^}]*))?(?::\?[^}]*)?\}/g,
    (_m, def: string | undefined) => def ?? 'set-by-operator',
  );

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    name?: string;
    services: Record<
      string,
      {
        image?: string;
        build?: { args?: Record<string, string> };
        environment?: Record<string, unknown>;
        ports?: string[];
        healthcheck?: unknown;
        deploy?: { replicas?: number };
        depends_on?: Record<string, { condition: string }>;
      }
    >;
  };
  const infraSh = readFileSync(path.join(ROOT, 'infra/local/infra.sh'), 'utf8');
  const pinned = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(infraSh)?.[1];

  it('has the infrastructure: Kafka in KRaft mode, PostgreSQL, Redis, s3proxy with its bucket', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['kafka', 'postgres', 'redis', 's3proxy', 's3-bucket']),
    );
    expect(compose.services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    // Consumer groups of two replicas split partitions only when a topic has at least two.
    expect(Number(compose.services.kafka?.environment?.KAFKA_NUM_PARTITIONS)).toBeGreaterThanOrEqual(2);
    expect(compose.services.kafka?.environment?.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const sql = readFileSync(path.join(ROOT, 'infra/docker/postgres/create-databases.sql'), 'utf8');
    for (const s of SERVICES.filter((x) => x !== 'gateway'))
      expect(sql).toContain(`CREATE DATABASE mpb_${s};`);
  });

  it.each(SERVICES)('runs %s with an environment its config accepts in production', (service) => {
    const entry = compose.services[service];
    expect(entry).toBeDefined();
    expect(entry!.build?.args?.SERVICE).toBe(service);
    const env = Object.fromEntries(
      Object.entries(entry!.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
    );
    expect(env.NODE_ENV).toBe('production');
    expect(env.HTTP_PORT).toBe('3000');
    checkEnv(service, env);
  });

  it('publishes the gateway on the loopback only, and nothing else, so every other service scales', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'gateway') expect(s.ports).toEqual(['127.0.0.1:8080:3000']);
      else expect({ name, ports: s.ports }).toEqual({ name, ports: undefined });
    }
  });

  it("gives posts the gateway's TRUST_PROXY, so readers' addresses are found as the gateway finds them", () => {
    expect(compose.services.posts!.environment?.GATEWAY_TRUST_PROXY).toBe(
      compose.services.gateway!.environment?.TRUST_PROXY,
    );
  });

  it('runs two replicas of every backend service and one gateway', () => {
    for (const s of SERVICES)
      expect({ s, replicas: compose.services[s]!.deploy?.replicas }).toEqual({
        s,
        replicas: s === 'gateway' ? 1 : 2,
      });
  });

  it('works with docker-compose 1.29 too: no top-level name key', () => {
    expect(compose.name).toBeUndefined();
  });

  it('pins every image, with the versions infra/local runs and the offline build provides', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/),
      });
      expect(s.image).not.toMatch(/:latest$/);
    }
    for (const s of SERVICES) expect(compose.services[s]!.image).toBe(`mpb/${s}:local`);
    expect(compose.services.kafka!.image).toBe(`apache/kafka:${pinned('KAFKA_VERSION')}`);
    expect(compose.services.s3proxy!.image).toBe(`andrewgaul/s3proxy:s3proxy-${pinned('S3PROXY_VERSION')}`);
    const offline = readFileSync(path.join(ROOT, 'infra/docker/images-offline.sh'), 'utf8');
    for (const image of [
      'postgres:15',
      'redis:7',
      'apache/kafka:$KAFKA_VERSION',
      'andrewgaul/s3proxy:s3proxy-$S3PROXY_VERSION',
    ])
      expect(offline).toContain(`_IMAGE=${image}\n`);
    expect(compose.services.postgres!.image).toBe('postgres:15');
    expect(compose.services.redis!.image).toBe('redis:7');
  });

  it('creates the bucket attachments uses, on the S3 server it uses, before attachments starts', () => {
    const bucket = compose.services['s3-bucket']!;
    const att = compose.services.attachments!;
    expect(bucket.environment?.S3_BUCKET).toBe(att.environment?.S3_BUCKET);
    expect(bucket.environment?.S3_ENDPOINT).toBe(att.environment?.S3_ENDPOINT);
    expect(att.environment?.S3_ENDPOINT).toBe('http://s3proxy:80');
    expect(att.depends_on?.['s3-bucket']?.condition).toBe('service_completed_successfully');
  });

  it('points the gateway at every service it routes to', () => {
    const env = compose.services.gateway!.environment ?? {};
    for (const s of SERVICES.filter((x) => !['gateway', 'attachments'].includes(x))) {
      expect(env[`${s.toUpperCase()}_URL`]).toBe(`http://${s}:3000`);
    }
  });
});

describe('infra/k8s', () => {
  type K8sDoc = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const docs: K8sDoc[] = readdirSync(path.join(ROOT, 'infra/k8s'))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(ROOT, 'infra/k8s', f), 'utf8')).map((d) => d.toJS() as K8sDoc),
    );
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'mpb-config')!;
  const kustomization = parse(readFileSync(path.join(ROOT, 'infra/k8s/kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };

  it('lists every manifest in the kustomization', () => {
    const files = readdirSync(path.join(ROOT, 'infra/k8s')).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it.each(SERVICES)(
    'deploys %s with probes on the kit paths and an environment its config accepts',
    (service) => {
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === service);
      expect(deployment).toBeDefined();
      const container = deployment!.spec.template.spec.containers[0];
      expect(container.livenessProbe.httpGet.path).toBe('/livez');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.resources.requests).toBeDefined();
      expect(container.resources.limits).toBeDefined();
      const http = container.ports.find((p: { name: string }) => p.name === 'http');
      expect(String(http.containerPort)).toBe(configMap.data!.HTTP_PORT);
      const grpc = container.ports.find((p: { name: string }) => p.name === 'grpc');
      if (grpc) expect(String(grpc.containerPort)).toBe(configMap.data!.GRPC_PORT);
      // The ConfigMap is shared by every service; only the container's own entries must be known keys.
      const env: Record<string, string> = { ...configMap.data };
      const own: string[] = [];
      for (const e of container.env ?? []) {
        own.push(e.name);
        env[e.name] =
          e.value ?? (e.valueFrom?.secretKeyRef ? `postgres://user:secret@db:5432/mpb_${service}` : '');
      }
      checkEnv(service, env, own);
      expect(docs.some((d) => d.kind === 'Service' && d.metadata.name === service)).toBe(true);
      expect(docs.some((d) => d.kind === 'PodDisruptionBudget' && d.metadata.name === service)).toBe(true);
      expect(docs.some((d) => d.kind === 'HorizontalPodAutoscaler' && d.metadata.name === service)).toBe(
        true,
      );
    },
  );

  it("gives posts the gateway's TRUST_PROXY, so readers' addresses are found as the gateway finds them", () => {
    const envOf = (name: string): Record<string, string> => {
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name)!;
      const own = deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
      return { ...configMap.data, ...Object.fromEntries(own.map((e) => [e.name, e.value ?? ''])) };
    };
    expect(envOf('posts').GATEWAY_TRUST_PROXY).toBeDefined();
    expect(envOf('posts').GATEWAY_TRUST_PROXY).toBe(envOf('gateway').TRUST_PROXY);
  });

  it.each(SERVICES.filter((s) => s !== 'gateway'))(
    'gives %s a headless Service, so callers balance over its pods themselves',
    (service) => {
      const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === service);
      // One ClusterIP would give grpc-js (and the gateway's keep-alive pool) a single address.
      expect(svc?.spec.clusterIP).toBe('None');
      expect(svc?.spec.selector).toEqual({ app: service });
    },
  );

  it.each(SERVICES.filter((s) => s !== 'gateway'))(
    'migrates %s with a Job running its migrate entry point',
    (service) => {
      const job = docs.find((d) => d.kind === 'Job' && d.metadata.name === `${service}-migrate`);
      expect(job?.spec.template.spec.containers[0].command).toEqual(['node', 'dist/src/migrate.js']);
      expect(existsSync(path.join(ROOT, 'services', service, 'src/migrate.ts'))).toBe(true);
    },
  );

  it('trusts no X-Forwarded-For behind a plain LoadBalancer, and keeps the client address', () => {
    // A layer-4 load balancer adds no forwarding header: a trusted one would come from the client,
    // which could then pick its own rate-limit bucket. Without SNAT the pod sees the real address.
    const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'gateway')!;
    const proxies = docs.filter((d) => d.kind === 'Ingress' || d.kind === 'Gateway');
    const container = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'gateway')!.spec
      .template.spec.containers[0];
    const trust = (container.env ?? []).find((e: { name: string }) => e.name === 'TRUST_PROXY')?.value;
    if (service.spec.type === 'LoadBalancer' && proxies.length === 0) {
      expect(trust ?? 'false').toBe('false');
      expect(service.spec.externalTrafficPolicy).toBe('Local');
    }
  });
});
