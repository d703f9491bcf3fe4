"""SMS alerts as a library: templates, segments, policy, the gateway and the local Twilio sandbox. No Kafka."""
