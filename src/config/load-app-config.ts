/** The one place the orchestrator reads process.env (style habit 24). */
import { AppConfig } from './app-config';
import { parseAppConfig } from './env.schema';

/** Validates the process environment; throws ConfigValidationError listing every bad variable. */
export function loadAppConfig(): AppConfig {
  return parseAppConfig(process.env, { cwd: process.cwd() });
}
