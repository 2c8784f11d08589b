/**
 * The script of a release job (release.yml's staging and production jobs), one bash program:
 *  1. the stage's Pulumi Cloud team token, exchanged for the job's GitHub OIDC token (no stored
 *     token; the trust policy gives a job of environment <stage> only the team of that stage), and
 *     exchanged again before it expires;
 *  2. a re-run of a release already verified there changes nothing;
 *  3. the release goes into the stack's ESC environment, then one update of the app stack runs: a
 *     previous attempt's update of the same release (noted in ESC as `deploying`) is waited for
 *     instead of starting another, and one in flight from before the release is let finish first;
 *     production pins the platform commit staging ran;
 *  4. healthy means every Rollout of the stack reached phase Healthy for its current generation, read
 *     by refresh deployments from the stack's state (the job holds no cluster credential); a
 *     Degraded Rollout (an aborted canary) fails the release;
 *  5. only then the verified record (release, platform commit, deployment) is written, and given to
 *     the next stage as the job's outputs.
 * Every call to Pulumi Cloud retries with exponential backoff on timeouts, 429 and 5xx (curl --retry).
 */
import { ROLLOUTS_API } from "../delivery/rollouts";
import { RELEASE_TOKEN_SECONDS, type ReleaseEnvironment } from "./pipeline";

/** Seconds between health reads, and how long a stage may take to become healthy. */
const HEALTH: Record<ReleaseEnvironment, { pollSeconds: number; timeoutSeconds: number }> = {
  staging: { pollSeconds: 120, timeoutSeconds: 3600 },
  // Production's first canary pause waits for a person to promote.
  production: { pollSeconds: 300, timeoutSeconds: 5 * 3600 },
};

/** The job's timeout: the health wait plus the deployment's own time. */
export function releaseJobMinutes(stage: ReleaseEnvironment): number {
  return Math.ceil(HEALTH[stage].timeoutSeconds / 60) + 45;
}

const ROLLOUT_TYPE = `kubernetes:${ROLLOUTS_API}:Rollout`;

export function releaseScript(stage: ReleaseEnvironment, takesFrom?: ReleaseEnvironment): string {
  const { pollSeconds, timeoutSeconds } = HEALTH[stage];
  return [
    "# A failing call inside $(…) fails the script too, instead of reading as an empty answer.",
    "shopt -s inherit_errexit",
    "# 1. The stage's team token, exchanged for the job's GitHub OIDC token (audience: the Pulumi organization),",
    "# and exchanged again once three quarters of its life are gone: a production wait outlives one token. It is",
    "# kept in a file, so a call in a subshell sees a renewed one; the clock is `date`, the one `sleep` moves.",
    "now() { date +%s; }",
    "# The job's own output, for the mask of a token renewed inside a command substitution.",
    "exec 3>&1",
    'token_file="${RUNNER_TEMP:-/tmp}/pulumi-release-token"',
    "exchange() {",
    '  local audience="urn:pulumi:org:$PULUMI_ORGANIZATION" oidc body response token lifetime',
    '  oidc=$(curl -fsS --retry 6 -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \\',
    '    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=$audience" | jq -r .value)',
    '  body=$(jq -n --arg audience "$audience" --arg team "$PULUMI_TEAM" --arg token "$oidc" \'{',
    '    audience: $audience, grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",',
    '    subject_token_type: "urn:ietf:params:oauth:token-type:id_token", subject_token: $token,',
    `    requested_token_type: "urn:pulumi:token-type:access_token:team", scope: ("team:" + $team), expiration: ${RELEASE_TOKEN_SECONDS}}')`,
    "  response=$(curl -fsS --retry 6 -X POST https://api.pulumi.com/api/oauth/token \\",
    '    -H "Content-Type: application/json" --data "$body")',
    '  token=$(jq -r .access_token <<<"$response")',
    `  lifetime=$(jq -r '.expires_in // ${RELEASE_TOKEN_SECONDS}' <<<"$response")`,
    '  echo "::add-mask::$token" >&3',
    '  (umask 077 && printf \'%s %s\\n\' "$(($(now) + lifetime * 3 / 4))" "$token" >"$token_file")',
    "}",
    "# token: the current team token, renewed first when it is due.",
    "token() {",
    "  local renew value",
    '  read -r renew value <"$token_file"',
    '  if (($(now) >= renew)); then exchange; read -r renew value <"$token_file"; fi',
    "  printf '%s' \"$value\"",
    "}",
    "exchange",
    "",
    "# Pulumi Cloud's REST API; curl retries timeouts, 429 and 5xx with exponential backoff.",
    "api() {",
    "  local method=$1 path=$2 body=${3:-}",
    '  curl -fsS --retry 6 --retry-max-time 600 -X "$method" "https://api.pulumi.com/api$path" \\',
    '    -H "Authorization: token $(token)" -H "Accept: application/vnd.pulumi+8" \\',
    '    -H "Content-Type: application/json" ${body:+--data "$body"}',
    "}",
    "# ESC through the CLI, with the current token.",
    'penv() { PULUMI_ACCESS_TOKEN=$(token) pulumi env "$@"; }',
    'stack_path="/stacks/$PULUMI_ORGANIZATION/$PULUMI_PROJECT/$STACK"',
    'esc="$PULUMI_ORGANIZATION/$PULUMI_ESC_PROJECT/$RELEASE_ENV"',
    "",
    ...(takesFrom
      ? [
          `# Production takes the release and the platform commit ${takesFrom} verified in this run, and only this tag's.`,
          'if [[ $(jq -r .version <<<"$RELEASE") != "$VERSION" ]]; then',
          `  echo "::error::${takesFrom} verified $(jq -r .version <<<"$RELEASE"), not $VERSION"; exit 1`,
          "fi",
          'candidate="$RELEASE"',
          'commit="$PLATFORM_COMMIT"',
        ]
      : ['candidate="$RELEASE"', 'commit=""']),
    "",
    "# 2. A re-run of a release this stage already verified changes nothing.",
    'recorded=$(penv get "$esc" verified --value json 2>/dev/null || echo null)',
    'if jq -e --argjson release "$candidate" \'.release == $release\' <<<"$recorded" >/dev/null; then',
    '  echo "$STACK already runs and verified $(jq -r .version <<<"$candidate")"',
    '  jq -r \'"release=\\(.release | tojson)\\nplatform-commit=\\(.platformCommit)"\' <<<"$recorded" >>"$GITHUB_OUTPUT"',
    "  exit 0",
    "fi",
    "",
    "# 3. The release into the stack's ESC environment, then this release's one update.",
    'penv set "$esc" \'pulumiConfig["doc-rag:release"]\' "$candidate"',
    "in_flight() {",
    '  api GET "$stack_path/deployments?pageSize=1" |',
    '    jq -r \'.deployments[0] // empty | select(.status | IN("not-started", "accepted", "running")) | "\\(.id) \\(.pulumiOperation)"\'',
    "}",
    "# wait_for ID OPERATION: its status; a deployment skipped for a newer one (skipIntermediateDeployments) is",
    "# followed to the oldest newer deployment of the same operation, not to whatever is newest (a drift check).",
    "wait_for() {",
    "  local id=$1 operation=$2 deployment status skipped_at",
    "  while true; do",
    '    deployment=$(api GET "$stack_path/deployments/$id")',
    '    status=$(jq -r .status <<<"$deployment")',
    '    case "$status" in',
    '      succeeded | failed) echo "$status"; return ;;',
    "      skipped)",
    '        skipped_at=$(jq -r .version <<<"$deployment")',
    "        sleep 20",
    '        id=$(api GET "$stack_path/deployments?pageSize=20" | jq -r --arg op "$operation" --argjson skipped_at "$skipped_at" \'',
    "          [.deployments[] | select(.pulumiOperation == $op and .version > $skipped_at)] | min_by(.version) | .id // empty')",
    '        if [[ -z "$id" ]]; then echo failed; return; fi ;;',
    "      not-started | accepted | running) sleep 20 ;;",
    '      *) echo "::error::deployment $id of $STACK: unexpected status \\"$status\\"" >&2; echo failed; return ;;',
    "    esac",
    "  done",
    "}",
    "# start OPERATION: a new deployment, once whatever is in flight (it predates this release) has ended.",
    "start() {",
    "  local body other",
    "  other=$(in_flight)",
    '  if [[ -n "$other" ]]; then echo "Waiting for deployment $other of $STACK first" >&2; wait_for "${other% *}" "${other#* }" >/dev/null; fi',
    '  body=$(jq -n --arg op "$1" --arg commit "$commit" \'{operation: $op}',
    '    + (if $commit == "" then {} else {sourceContext: {git: {commit: $commit}}} end)\')',
    '  api POST "$stack_path/deployments" "$body" | jq -r .id',
    "}",
    "# succeed ID OPERATION: waits for it; fails the job unless it succeeds.",
    "succeed() {",
    '  echo "Deployment $1 ($2) of $STACK"',
    '  if [[ $(wait_for "$1" "$2") != succeeded ]]; then echo "::error::deployment $1 ($2) of $STACK failed"; exit 1; fi',
    "}",
    "# The update a previous attempt started for this release, unless it failed; else a new one, noted first.",
    'deploying=$(penv get "$esc" deploying --value json 2>/dev/null || echo null)',
    'update=$(jq -r --argjson release "$candidate" \'select(.release == $release) | .deployment // empty\' <<<"$deploying")',
    'if [[ -n "$update" && $(api GET "$stack_path/deployments/$update" | jq -r .status) == failed ]]; then update=""; fi',
    'if [[ -z "$update" ]]; then',
    "  update=$(start update)",
    '  penv set "$esc" deploying "$(jq -n --argjson release "$candidate" --arg id "$update" \'{release: $release, deployment: $id}\')"',
    "fi",
    'succeed "$update" update',
    "# The platform commit the update ran (its git metadata): production deploys exactly this one.",
    'if [[ -z "$commit" ]]; then commit=$(api GET "$stack_path/updates/latest" | jq -r \'.info.environment["git.head"]\'); fi',
    "",
    "# 4. Healthy: every Rollout in the stack's state at phase Healthy for its current generation.",
    `deadline=$(($(now) + ${timeoutSeconds}))`,
    "while true; do",
    '  succeed "$(start refresh)" refresh',
    `  health=$(api GET "$stack_path/export" | jq -r --arg type "${ROLLOUT_TYPE}" '`,
    "    [.deployment.resources[] | select(.type == $type) | .outputs]",
    '    | if any(.status.phase == "Degraded") then "degraded"',
    '      elif length > 0 and all(.status.phase == "Healthy" and .status.observedGeneration == (.metadata.generation | tostring))',
    '      then "healthy" else "progressing" end\')',
    '  echo "Rollouts of $STACK: $health"',
    '  case "$health" in',
    "    healthy) break ;;",
    '    degraded) echo "::error::a Rollout of $STACK is Degraded: the canary was aborted"; exit 1 ;;',
    "  esac",
    `  if (($(now) > deadline)); then echo "::error::the Rollouts of $STACK are not Healthy after ${timeoutSeconds}s"; exit 1; fi`,
    `  sleep ${pollSeconds}`,
    "done",
    "",
    "# 5. The verified record, written only now, and handed to the next stage.",
    'record=$(jq -n --argjson release "$candidate" --arg commit "$commit" --arg run "$GITHUB_RUN_ID" \\',
    "  '{release: $release, platformCommit: $commit, run: $run, verifiedAt: (now | todate)}')",
    'penv set "$esc" verified "$record"',
    'echo "release=$(jq -c . <<<"$candidate")" >>"$GITHUB_OUTPUT"',
    'echo "platform-commit=$commit" >>"$GITHUB_OUTPUT"',
  ].join("\n");
}
