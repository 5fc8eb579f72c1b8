#!/bin/bash
set -e
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  java -cp '/opt/kafka/libs/*' -Dlog4j2.configurationFile=/etc/kchaos/log4j2.properties kafka.tools.StorageTool format -t xaKWP5IUQjmZsn_cA8BgTA -c /etc/kchaos/server.properties
fi
exec java -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true -Dlog4j2.configurationFile=/etc/kchaos/log4j2.properties -Dkafka.logs.dir=/var/log/kafka -cp '/opt/kafka/libs/*' kafka.Kafka /etc/kchaos/server.properties
