# Thin entry points; the work is in scripts/.
.PHONY: demo test test-k8s build format clean broker-start broker-stop

# make demo DEMO_ARGS="--compare slo,keda": arguments for `ebb demo`.
demo:
	scripts/demo.sh $(DEMO_ARGS)

test:
	scripts/test.sh

# The Kubernetes tier: a local cluster from Kubernetes' and KEDA's own code, the chart on it.
test-k8s:
	scripts/test.sh --k8s

build:
	scripts/build.sh release

format:
	scripts/format.sh

broker-start:
	tools/kafka/kafka.sh start

broker-stop:
	tools/kafka/kafka.sh stop

clean:
	rm -rf build
