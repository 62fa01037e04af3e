/**
 * The `cluster:` section of the configuration file (issue 17). Absent, Veilleur runs as one process, as before;
 * present, this replica relays the broker's messages into a JetStream stream and consumes the partitions it holds.
 * The partition count is fixed for the life of the stream (JetStream cannot re-partition): changing it needs a new
 * stream name.
 */
import { z } from 'zod';

const natsUrl = z.string().regex(/^(nats|tls|ws|wss):\/\/[^\s/]+$/, "expected a NATS URL such as 'nats://nats-1:4222' (nats://, tls://, ws://, wss://)");
const name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, _ or -');

export const clusterSchema = z.strictObject({
  nats: z.strictObject({
    /** Every server of the NATS cluster the replica may connect to (it fails over between them). */
    servers: z.array(natsUrl).min(1, 'expected at least one NATS server'),
    user: z.string().min(1).optional(),
    /** Environment variable holding the NATS password (never the password itself in the file). */
    passwordEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable').optional(),
  }),
  /**
   * This replica's name, unique in the cluster (lease holder, MQTT client id suffix). Unset: the variable
   * VEILLEUR_REPLICA_ID, else the host name, so one file can serve every replica of a compose file.
   */
  replicaId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, _ or -').optional(),
  /** Partitions of the uplink stream (p = hash(DevEUI) mod N): the most replicas that can share the work. */
  partitions: z.number().int().min(1).max(1024).default(16),
  /** JetStream stream of the network server's messages, and the prefix of its subjects (`<subjects>.<p>`). */
  stream: name.default('VEILLEUR_UP'),
  subjects: z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, "expected dot-separated lower-case tokens such as 'veilleur.up'").default('veilleur.up'),
  /** Copies of the stream kept by a NATS cluster (1 for a single server, 3 for a three-node cluster). */
  streamReplicas: z.number().int().min(1).max(5).default(1),
  /** How long the stream keeps messages after they were consumed, for a replay: hours. */
  streamMaxAgeHours: z.number().int().min(1).max(24 * 365).default(168),
  /** A message published again (relay restart, network-server re-publication) within this window is stored once. */
  duplicateWindowSeconds: z.number().int().min(10).max(86_400).default(120),
  /** How long a dead replica keeps its partitions and jobs before others take them over. */
  leaseTtlSeconds: z.number().int().min(2).max(120).default(5),
  /**
   * Who subscribes to the network server's broker: `leader` (one replica at a time, holding the `relay` lease, with
   * the fixed MQTT client id: its persistent session passes to the next leader with whatever was not yet relayed),
   * or `shared` (every replica, `$share/veilleur/…` subscriptions and a client id per replica: more relay capacity,
   * but a replica that dies keeps its broker session's share until it comes back).
   */
  relay: z.enum(['leader', 'shared']).default('leader'),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;
