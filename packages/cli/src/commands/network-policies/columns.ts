/** How `network-policies ls` and `create` print a policy. */
import type { Egress, NetworkPolicy } from '@tartarus/sdk';
import { ago } from '../../output.js';

/** An egress policy on one line: `none`, `all`, or its entries joined by commas. */
export function egressText(egress: Egress): string {
  return Array.isArray(egress) ? egress.join(',') : egress;
}

/** The columns of a policy table. */
export const POLICY_COLUMNS = [
  { header: 'name', get: (p: NetworkPolicy) => p.name },
  { header: 'egress', get: (p: NetworkPolicy) => egressText(p.egress) },
  { header: 'description', get: (p: NetworkPolicy) => p.description },
  { header: 'created', get: (p: NetworkPolicy) => ago(p.createdAt) },
];
