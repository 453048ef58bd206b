// The model catalogue served by GET /api/models (§3.5, §7.1) and used by §7.2 step 6.
// Ids are matched case-insensitively: the service spells some in mixed case ("GLM-5.1") and
// clients also send them lower-cased.

const CREATED = 1782000000;

function entry(id, name, capabilities, { hidden = false, mcp = [] } = {}) {
  return {
    id,
    name,
    object: 'model',
    created: CREATED,
    owned_by: 'openai',
    info: {
      is_active: true,
      params: {},
      meta: {
        capabilities,
        mcpServerIds: mcp,
        hidden,
        description: `${name} (fake catalogue)`,
        suggestion_prompts: null,
      },
    },
  };
}

const think = { think: true, free_think: true };

export const MODELS = Object.freeze([
  entry('glm-4.7', 'GLM-4.7', { ...think, web_search: true, mcp: true, file_qa: true, returnThink: true }, { mcp: ['deep-web-search'] }),
  entry('glm-5', 'GLM-5', { ...think, web_search: true }),
  entry('GLM-5.1', 'GLM-5.1', { ...think, web_search: true }),
  entry('glm-5.2', 'GLM-5.2', { ...think, web_search: true, reasoning_effort: true }),
  entry('glm-5.3', 'GLM-5.3', { ...think, web_search: true, reasoning_effort: true }),
  entry('glm-5.3-flash', 'GLM-5.3-Flash', { ...think }),
  entry('GLM-5-Turbo', 'GLM-5-Turbo', { ...think, web_search: true }),
  entry('GLM-5v-Turbo', 'GLM-5V-Turbo', { ...think, vision: true }),
  entry('glm-4.6v', 'GLM-4.6V', { ...think, vision: true, mcp: true }, { mcp: ['vlm-image-search', 'vlm-image-recognition', 'vlm-image-processing'] }),
  entry('glm-4.5v', 'GLM-4.5V', { ...think, vision: true }),
  entry('GLM-4-6-API-V1', 'GLM-4.6', { ...think, web_search: true }),
  entry('0727-360B-API', 'GLM-4.5', { ...think, web_search: true }),
  entry('0727-106B-API', 'GLM-4.5-Air', { ...think }),
  entry('deep-research', 'Z1-Rumination', { think: true }, { hidden: true }),
  entry('glm-4-flash', 'GLM-4-Flash', {}, { hidden: true }),
]);

const BY_LOWER = new Map(MODELS.map((m) => [m.id.toLowerCase(), m]));

export function findModel(id) {
  return typeof id === 'string' ? BY_LOWER.get(id.toLowerCase()) ?? null : null;
}
