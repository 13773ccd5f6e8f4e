/**
 * A free loopback port for a process we start. Random candidates, not 20000 upwards in order:
 * clusters started in parallel would otherwise be handed the same low ports. All below Linux's
 * ephemeral range (32768+): a killed member or host is restarted on its old port, and an outgoing
 * connection may meanwhile have taken a port in that range.
 */
import getPort from 'get-port';

const candidates = () => Array.from({ length: 64 }, () => 20_000 + Math.floor(Math.random() * 12_700));

export const freePort = (): Promise<number> => getPort({ port: candidates() });
