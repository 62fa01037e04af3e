/** Names shared by the relay and the partition consumers: subjects, durable consumer names, headers, lease keys. */

/** The network server's MQTT topic, kept so that the ingestor sees (topic, payload) as in single-process mode. */
export const TOPIC_HEADER = 'Veilleur-Topic';

export const subjectOf = (prefix: string, partition: number): string => `${prefix}.${partition}`;
/** One durable pull consumer per partition. */
export const consumerOf = (partition: number): string => `partition-${partition}`;
export const partitionLease = (partition: number): string => `partition.${partition}`;
export const PARTITION_LEASE_PREFIX = 'partition.';
/** Held by the replica that relays the broker in `relay: leader` mode. */
export const RELAY_LEASE = 'relay';
