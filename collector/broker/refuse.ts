// Refusing a publish the embedded broker must not take (rejected by ingest, or not allowed).
//
// What aedes 2.0.0-beta.1 does with an authorizePublish error (node_modules/aedes/lib/handlers/
// publish.js, authorizePublish/enqueuePublish): an MQTT 3.1.1 client's connection is closed; an
// MQTT 5 client's QoS 1/2 publish is answered with reason code 0x87 (Not authorized) whatever the
// error, with err.message as the Reason String, the packet is flagged `_notAuthorized`, and
// enqueuePublish then neither acknowledges nor publishes it (no relay, no retain). It offers no
// way to choose another code, so for those this module writes the PUBACK/PUBREC itself and sets
// the same flag before letting aedes go on. aedes is pinned to that exact version (package.json),
// and test/security/broker-refusal.test.ts proves the codes on the wire with mqtt.js.
import type { Writable } from "node:stream";
import type { Client, PublishPacket } from "aedes";
import mqttPacket from "mqtt-packet";
import { REASON } from "./policy.js";

/** The aedes internals this relies on (see the header). */
type AedesClient = Client & { conn: Writable; _requestProblemInformation?: boolean };
type AedesPacket = PublishPacket & { _notAuthorized?: boolean };

export function refusePublish(
  client: Client | null,
  packet: PublishPacket,
  code: number,
  reason: string,
  done: (error?: Error | null) => void,
): void {
  // aedes' own answer (0x87, or a closed connection under 3.1.1) serves: for 0x87 itself; for a
  // QoS 0 publish, which has no acknowledgement to carry a code (aedes drops it); and for a last
  // will, which aedes publishes unless this callback gets an error (aedes.js publishWill).
  const c = client as AedesClient | null;
  if (c?.version !== 5 || code === REASON.NOT_AUTHORIZED || packet.qos === 0 || !c.connected || c.closed) {
    done(new Error(reason));
    return;
  }
  (packet as AedesPacket)._notAuthorized = true;
  const ack = mqttPacket.generate(
    {
      cmd: packet.qos === 1 ? "puback" : "pubrec",
      messageId: packet.messageId ?? 0,
      reasonCode: code,
      // [MQTT-3.4.2.2] a Reason String only when the client did not turn problem information off.
      ...(c._requestProblemInformation === false ? {} : { properties: { reasonString: reason } }),
    },
    { protocolVersion: 5 },
  );
  c.conn.write(ack, () => done(null));
}
