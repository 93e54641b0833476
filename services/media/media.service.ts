/**
 * media: product images. Records in its own database (`shop_media`, one gallery document per
 * product), files behind lib/media/storage.ts (DATA_DIR/media embedded, GridFS in the cluster).
 *
 *   uploads.ts     an upload from the stream: bounded, sniffed, decoded within limits, stripped
 *   galleries.ts   a product's images, changed by compare-and-set with the event in the outbox
 *   renditions.ts  presets made with sharp on first request, stored, single flight per node
 *   library.ts     the actions' work, on the three above
 *
 * The catalog keeps the images on its products from this service's events (media.image-*).
 */
import os from "node:os";
import path from "node:path";
import type { Service } from "moleculer";
import { defineService } from "../../lib/broker/service.js";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin.js";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin.js";
import { config } from "../../lib/config.js";
import type { ShopContext } from "../../lib/auth/access.js";
import type { ParamsOf } from "../../lib/contracts/params.js";
import { MEDIA } from "../../lib/contracts/http/media.js";
import { idRule } from "../../lib/contracts/ids.js";
import { definedOnly } from "../../lib/contracts/params.js";
import { FileStorage, GridFsStorage, type MediaStorage } from "../../lib/media/storage.js";
import { serviceDatabase } from "../../lib/store/mongo.js";
import { recordRenditionGenerated } from "../../lib/observability/metrics.js";
import { Galleries, type GalleryRecord } from "./galleries.js";
import { Renditions } from "./renditions.js";
import { MediaLibrary, type UploadFields } from "./library.js";
import { seedDemoImages } from "./demo-images.js";

type SearchPage = { rows: { id: string; sku: string; variants?: { id: string; options: Record<string, string> }[] }[] };

type Params<A extends keyof typeof MEDIA> = ParamsOf<(typeof MEDIA)[A]>;

interface MediaState {
	library: MediaLibrary;
}
type MediaThis = Service & DbMethods & EventsMethods & MediaState;

/** Where files go on the embedded defaults; an in-memory shop (DATA_DIR=:memory:) uses a directory of its own under the OS's temp. */
function filesRoot(): string {
	return config.dataDir === ":memory:" ? path.join(os.tmpdir(), `shop-media-${process.pid}`) : path.join(config.dataDir, "media");
}

async function openStorage(): Promise<MediaStorage> {
	if (!config.mongoUrl) return new FileStorage(filesRoot());
	const connection = await serviceDatabase(config.mongoUrl, "media");
	return new GridFsStorage(connection.db!);
}

const MediaService = defineService<MediaThis>({
	name: "media",
	mixins: [EventsMixin({ outbox: ["galleries"] }), DbMixin({ galleries: {}, marks: {} })],

	actions: {
		upload: {
			roles: ["admin"],
			params: MEDIA["media.upload"],
			// Reads the whole file (bounded); never sent again to another node: the stream is gone.
			timeout: 60_000,
			handler(ctx: ShopContext<UploadFields>) {
				return this.library.upload(ctx.params, ctx.stream as never, ctx);
			},
		},
		updateImage: {
			roles: ["admin"],
			params: MEDIA["media.updateImage"],
			handler(ctx: ShopContext<Params<"media.updateImage">>) {
				const { id, imageId, ...change } = ctx.params;
				return this.library.update(id, imageId, definedOnly(change), ctx);
			},
		},
		removeImage: {
			roles: ["admin"],
			params: MEDIA["media.removeImage"],
			async handler(ctx: ShopContext<Params<"media.removeImage">>) {
				await this.library.remove(ctx.params.id, ctx.params.imageId, ctx);
				return null;
			},
		},
		rendition: {
			auth: "public",
			idempotent: true,
			params: MEDIA["media.rendition"],
			async handler(ctx: ShopContext<Params<"media.rendition">>) {
				const { imageId, preset, format } = ctx.params;
				const answer = await this.library.rendition(imageId, preset, format, ctx.meta.ifNoneMatch);
				ctx.meta.$statusCode = answer.status;
				ctx.meta.$responseType = answer.contentType;
				ctx.meta.$responseHeaders = answer.headers;
				return answer.file?.stream ?? null;
			},
		},

		// ---- Internal: never routed.
		/** What this node did, for tests and operators: renditions it generated. */
		stats: {
			visibility: "public",
			handler() {
				return { nodeID: this.broker.nodeID, generated: this.library.renditions.generated, storage: this.library.storage.kind };
			},
		},
		/** The names of an image's stored files (tests and operators: a deleted product's files are gone). */
		files: {
			visibility: "public",
			params: { imageId: idRule },
			handler(ctx: ShopContext<{ imageId: string }>) {
				return this.library.storage.list(`${ctx.params.imageId}/`);
			},
		},
		/** One stored file, base64 (tests: what is stored carries no EXIF). */
		file: {
			visibility: "public",
			params: { name: { type: "string", max: 100 } },
			async handler(ctx: ShopContext<{ name: string }>) {
				const file = await this.library.storage.open(ctx.params.name);
				if (!file) return null;
				const chunks: Buffer[] = [];
				for await (const chunk of file.stream as AsyncIterable<Buffer>) chunks.push(chunk);
				return Buffer.concat(chunks).toString("base64");
			},
		},
		/** A product's image records as stored (with format, hash and size). */
		records: {
			visibility: "public",
			params: { productId: idRule },
			handler(ctx: ShopContext<{ productId: string }>) {
				return this.library.galleries.images(ctx.params.productId);
			},
		},
	},

	integrationEvents: {
		"product.deleted": async function (event, ctx) {
			const removed = await this.library.removeProduct(event.payload.productId, ctx);
			if (removed > 0) this.logger.info(`Product ${event.payload.productId} deleted: removed its ${removed} image(s) and their files`);
		},
	},

	/** Every node serves renditions from memory: an image removed by another node leaves this one's too. */
	everyNodeEvents: {
		"media.image-removed": async function (event) {
			this.library?.forget(event.payload.imageId);
		},
	},

	async started() {
		const storage = await openStorage();
		const galleries = new Galleries(this.collection<GalleryRecord>("galleries"));
		const renditions = new Renditions(storage, (preset, format, ms) => recordRenditionGenerated(this.broker, preset, format, ms));
		const productOf = (productId: string) =>
			this.broker.call<{ variants?: { id: string }[] }, { id: string }>(
				"products.get",
				{ id: productId },
				{ meta: { user: { id: "media", roles: ["admin"], sessionId: "" } } },
			);
		this.library = new MediaLibrary(galleries, storage, renditions, productOf);
		this.logger.info(`Media files in ${storage.kind === "gridfs" ? "GridFS (database media)" : filesRoot()}`);
	},

	events: {
		// The demo catalog is loaded by the products service as it starts: its pictures come after.
		async "$broker.started"(this: MediaThis) {
			if (!config.seedDemo) return;
			const bySku = async (sku: string) =>
				(await this.broker.call<SearchPage, object>("products.search", { q: sku, page: 1, pageSize: 5 })).rows.find(r => r.sku === sku);
			try {
				await this.broker.waitForServices(["products"], 30_000);
				const added = await seedDemoImages(this.library, this.collection("marks"), bySku);
				if (added > 0)
					this.logger.info(`Demo catalog: added ${added} pictures (rendered from services/media/demo-images). SEED_DEMO=false turns this off.`);
			} catch (err) {
				this.logger.warn(`Demo pictures not added: ${(err as Error).message}`);
			}
		},
	},
});

export default MediaService;
