# Thin entry points; the work is in scripts/.
.PHONY: demo test build format clean broker-start broker-stop

demo:
	scripts/demo.sh

test:
	scripts/test.sh

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
