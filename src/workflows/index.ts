// Every workflow the worker registers.
export { cm360EnhancementWorkflow } from './cm360-enhancement';
export { formEnhancementWorkflow } from './form-enhancement';
export { lifecycleConversionWorkflow } from './lifecycle-conversion';
export { pendoImportWorkflow } from './pendo-import';
export { callImportPartWorkflow, callImportWorkflow } from './call-import';
export { callsHubSpotPullWorkflow } from './calls-hubspot-pull';
export { hubspotFormPollWorkflow } from './hubspot-form-poll';
