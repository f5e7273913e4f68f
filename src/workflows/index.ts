// Every workflow the worker registers.
export { cm360EnhancementWorkflow } from './cm360-enhancement';
