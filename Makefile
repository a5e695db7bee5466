# The two commands of the README: `make run` and `make test`.
GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 20s

# Tests of the app package that start their own Redis topology: run once,
# in the single-server pass, not again under each OPSBOT_TEST_REDIS.
OWN_TOPOLOGY := ClusterMasterKilled|SentinelRecorded|ConfigCheckSays|EmbeddedStore|RedisAddrsWithout|RedisDBApplies

.PHONY: run build test lint race test-ahead test-topologies bench fuzz

run: ## start opsbot (local console without Slack tokens)
	$(GO) run .

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/opsbot .

test: lint race ## lint, then the whole suite with the race detector

lint: ## gofmt, go vet, staticcheck; the dependency rule is TestDependencyRule
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

race:
	$(GO) test -race -count=1 ./...

test-topologies: ## the end-to-end suite (app/) again on a Redis Cluster and on Sentinel
	OPSBOT_TEST_REDIS=cluster $(GO) test -race -count=1 -skip '$(OWN_TOPOLOGY)' ./app/
	OPSBOT_TEST_REDIS=sentinel $(GO) test -race -count=1 -skip '$(OWN_TOPOLOGY)' ./app/

test-ahead: ## the suite with the clock 400 days ahead (AHEAD_DAYS=n to change)
	scripts/test-ahead ./...

bench: ## benchmarks; figures quoted in issue notes come from here
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

fuzz: ## run each fuzz target for FUZZTIME
	$(GO) test -run='^$$' -fuzz=FuzzTokenize -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzParseMoney -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzParseWindow -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzParseDNSPlan -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzParseSmokeChecks -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzMdText -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzFindingsArgs -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzParseTrainingRecord -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzParseChecklistArgs -fuzztime=$(FUZZTIME) ./commands/
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) ./config/
	$(GO) test -run='^$$' -fuzz=FuzzMrkdwn -fuzztime=$(FUZZTIME) ./bot/console/
