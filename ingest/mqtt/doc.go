// Package mqtt is the MQTT front door for router telemetry. A [Consumer]
// subscribes with QoS 1 to <prefix>/<serial>/telemetry (as a shared
// subscription, $share/<group>/<prefix>/+/telemetry, so several instances
// split the load), parses each payload (one reading or an array) with the
// one reading parser, hands the readings to the one writer in batches and
// acknowledges each message (PUBACK) only after the batch holding it has
// committed.
//
// Nothing is acknowledged before commit: paho's automatic acknowledgement
// is off, the session is persistent (fixed client id, clean session off),
// and a message whose batch did not commit is never acknowledged, so the
// broker delivers it again after a reconnect or a restart. A reading that
// arrives twice is a duplicate for the writer and changes nothing.
//
// Back-pressure: the paho message handler feeds a bounded channel; a
// batching loop gathers messages into batches and hands them to at most
// [Config.InFlight] goroutines, which parse concurrently and write one
// after the other in arrival order (so that no batch turns an earlier
// one's readings into late readings, the writer's slow path). When the
// writer answers
// [writer.ErrUnavailable] or [writer.ErrQueueFull], the batch is retried
// with capped exponential back-off and not acknowledged meanwhile; the
// in-flight slots fill, the channel fills, and the handler blocks, which
// stops paho reading from the broker. The broker keeps the rest queued for
// the session (deploy/mosquitto.conf sizes that queue).
//
// A payload that does not parse, or whose device_id differs from the
// serial in the topic, is stored as a reject with its reason and then
// acknowledged, so a poison message cannot block the consumer. A reading
// without device_id takes the topic's serial.
//
// A [Poller], optional, speaks the RutOS "Monitoring via MQTT" dialogue:
// it asks each known router for its parameters on get/<serial>/command and
// stores the answers (router/<serial>/<param>) as a reading without
// counters.
package mqtt
