# Build, synth and deploy targets; included by the Makefile (which defines VENV, PY, $(VENV)/.installed).
# STAGE defaults to dev except for deploy/destroy, which must be told which stage to change.
ARCH ?= x86_64

# Stack settings given on make's command line reach infra/config.py as STACK_<NAME>: `make synth AUTH=iam`
# is STACK_AUTH=iam. Only the command line: the function's own variables (AUTH, DB_HOST, TRACING, ...) in
# the shell never become settings of the stack. Names that are no setting are ignored by the config.
$(foreach name,$(.VARIABLES),$(if $(filter command line,$(origin $(name))),$(eval export STACK_$(name) = $$($(name)))))
CDK := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk
CDK_STAGE = STACK_STAGE=$(or $(STAGE),dev)
# CI sets never: there the approval is the GitHub environment's reviewers, and no one is at a terminal.
CDK_APPROVAL ?= broadening
AWS_CHECK = $(PY) -m infra.aws_ops check --stage "$(STAGE)"
# The package always matches src/ and ARCH: rebuilt when either changed, reused otherwise (infra/build.py).
BUILD_IF_STALE = $(PY) -m infra.build --arch $(ARCH) --if-stale
# Routes the stack cannot deploy as the code serves them stop the command before any package is built.
ROUTE_CHECK = $(PY) -m infra.route_check --quiet
# What only the account knows (its concurrency quota, API Gateway's logging role) as `-c` arguments.
PREFLIGHT = $(PY) -m infra.preflight

.PHONY: build synth diff deploy bootstrap destroy invoke tail deploy-access

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: $(VENV)/.installed ## package src/ + its requirements, compiled, for Lambda into .build/lambda.zip (ARCH=x86_64|arm64)
	$(PY) -m infra.build --arch $(ARCH)

synth: $(VENV)/.installed node_modules/.installed ## build when stale, then write the CloudFormation template to cdk.out/ (offline)
	@$(ROUTE_CHECK)
	@$(BUILD_IF_STALE)
	@start=$$(date +%s); $(CDK_STAGE) STACK_ARCHITECTURE=$(ARCH) $(CDK) synth --quiet && \
	template=cdk.out/$$(ls cdk.out | grep -m1 '\.template\.json$$') && \
	echo "$$template written in $$(( $$(date +%s) - start )) s" && $(PY) -m infra.summary "$$template"

diff: $(VENV)/.installed node_modules/.installed ## show what deploy would change in STAGE (needs AWS credentials)
	@$(AWS_CHECK)
	@$(ROUTE_CHECK)
	@$(BUILD_IF_STALE)
	@context="$$($(PREFLIGHT) deploy --stage "$(or $(STAGE),dev)")" || exit $$?; \
	echo "$(CDK) diff $$context"; $(CDK_STAGE) STACK_ARCHITECTURE=$(ARCH) $(CDK) diff $$context

deploy: $(VENV)/.installed node_modules/.installed ## build and deploy STAGE=name (needs AWS credentials and a bootstrapped account)
	@$(AWS_CHECK) --require-stage
	@$(ROUTE_CHECK)
	$(BUILD_IF_STALE)
	@context="$$($(PREFLIGHT) deploy --stage "$(STAGE)")" || exit $$?; \
	echo "$(CDK) deploy $$context"; \
	STACK_STAGE=$(STAGE) STACK_ARCHITECTURE=$(ARCH) $(CDK) deploy --require-approval $(CDK_APPROVAL) $$context

bootstrap: $(VENV)/.installed node_modules/.installed ## prepare the account/region for CDK deploys (once per account and region)
	@$(AWS_CHECK)
	$(CDK_STAGE) STACK_SYNTH_WITHOUT_BUILD=1 $(CDK) bootstrap

destroy: $(VENV)/.installed node_modules/.installed ## delete the stack of STAGE=name (a created database leaves a snapshot)
	@$(AWS_CHECK) --require-stage
	STACK_STAGE=$(STAGE) STACK_SYNTH_WITHOUT_BUILD=1 $(CDK) destroy

invoke: $(VENV)/.installed ## invoke the deployed function with one event of events/ (EVENT=get_student); prints payload and log tail
	@$(PY) -m infra.aws_ops invoke --stage "$(or $(STAGE),dev)" --event "$(EVENT)"

deploy-access: $(VENV)/.installed node_modules/.installed ## once per account: the roles GitHub Actions deploys with (GITHUB_REPOSITORY=owner/name)
	@$(AWS_CHECK)
	@context="$$($(PREFLIGHT) deploy-access --stage "$(or $(STAGE),dev)")" || exit $$?; \
	$(CDK) --app "$(PY) -m infra.deploy_access" --output cdk.out/deploy-access deploy --require-approval broadening $$context

tail: $(VENV)/.installed ## follow the deployed function's logs (Ctrl-C to stop); REQUEST_ID=id: one request's lines
	@$(PY) -m infra.aws_ops tail --stage "$(or $(STAGE),dev)" $(if $(REQUEST_ID),--request-id "$(REQUEST_ID)") $(if $(SINCE),--since "$(SINCE)")
