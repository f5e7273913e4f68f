// Typed search attributes every relay workflow carries, so operators can filter in the Web UI
// (e.g. `RelayFlow = "cm360-enhancement" AND RelayStatus = "FAILED"`). Registered by `npm start`
// and the test environments. Search attributes are not encrypted: never put personal data here.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const RelayFlow = defineSearchAttributeKey('RelayFlow', SearchAttributeType.KEYWORD);
export const RelayAccount = defineSearchAttributeKey('RelayAccount', SearchAttributeType.KEYWORD);
export const RelayStatus = defineSearchAttributeKey('RelayStatus', SearchAttributeType.KEYWORD);
export const RelayReason = defineSearchAttributeKey('RelayReason', SearchAttributeType.KEYWORD);
export const RelayDeadline = defineSearchAttributeKey('RelayDeadline', SearchAttributeType.DATETIME);

export const RELAY_SEARCH_ATTRIBUTES = [RelayFlow, RelayAccount, RelayStatus, RelayReason, RelayDeadline];
