/**
 * Consumer lag of the partitions one group member holds: end offset minus committed offset of
 * each (a partition without a committed offset is read from its first one). A partition the
 * member stops holding is reported once more with 0: its new owner reports it from then on.
 */
import { ListOffsetTimestamps } from "@platformatic/kafka";
import { partitionKey, type KafkaConsumer } from "./kafka-client.js";

export type LagReport = (group: string, topic: string, partition: number, lag: number) => void;

export class LagReporter {
	private readonly reported = new Set<string>();
	private measuring = false;

	constructor(
		private readonly group: string,
		private readonly report: LagReport,
	) {}

	/** Measure and report (one measure at a time); `current` false: the consumer was replaced meanwhile, report nothing. */
	async measure(consumer: KafkaConsumer, current: () => boolean): Promise<void> {
		if (this.measuring) return;
		this.measuring = true;
		try {
			const assignments = (consumer.assignments ?? []).filter(a => a.partitions.length > 0);
			const held = new Set<string>();
			if (assignments.length > 0) {
				const topics = assignments.map(a => a.topic);
				const partitions = Object.fromEntries(assignments.map(a => [a.topic, a.partitions]));
				const [ends, committed] = await Promise.all([
					consumer.listOffsets({ topics, partitions }),
					consumer.listCommittedOffsets({ topics: assignments }),
				]);
				// A partition without a committed offset is read from its first one.
				const uncommitted = assignments.filter(a => a.partitions.some(p => (committed.get(a.topic)?.[p] ?? -1n) < 0n));
				const starts = uncommitted.length
					? await consumer.listOffsets({
							topics: uncommitted.map(a => a.topic),
							partitions: Object.fromEntries(uncommitted.map(a => [a.topic, a.partitions])),
							timestamp: ListOffsetTimestamps.EARLIEST,
						})
					: new Map<string, bigint[]>();
				if (!current()) return;
				for (const { topic, partitions: ps } of assignments) {
					for (const p of ps) {
						const end = ends.get(topic)?.[p];
						if (end === undefined) continue;
						let from = committed.get(topic)?.[p] ?? -1n;
						if (from < 0n) from = starts.get(topic)?.[p] ?? 0n;
						const lag = end > from ? end - from : 0n;
						held.add(partitionKey(topic, p));
						this.report(this.group, topic, p, Number(lag));
					}
				}
			}
			for (const key of this.reported) if (!held.has(key)) this.reportZero(key);
			held.forEach(k => this.reported.add(k));
		} finally {
			this.measuring = false;
		}
	}

	/** The member left: every partition it reported is reported once more with 0. */
	releaseAll(): void {
		for (const key of [...this.reported]) this.reportZero(key);
	}

	private reportZero(key: string): void {
		this.reported.delete(key);
		const i = key.lastIndexOf(":");
		this.report(this.group, key.slice(0, i), Number(key.slice(i + 1)), 0);
	}
}
