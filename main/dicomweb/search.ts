/**
 * QIDO-RS search transactions (PS3.18 10.6):
 *   GET {Root}studies                                    searchForStudies
 *   GET {Root}series, studies/{study}/series             searchForSeries
 *   GET {Root}instances, studies/{study}/instances,
 *       studies/{study}/series/{series}/instances        searchForInstances
 * The query is parsed into a value object (qidoQuery.ts), searched in the index
 * (store.search, no DICOM file read), and each match is answered with the
 * attributes PS3.18 requires at its level, the match keys and the includefield
 * attributes (qidoAnswers.ts). Answer: application/dicom+json (default;
 * application/json too) streamed as a JSON array, or multipart/related;
 * type="application/dicom+xml" with one part per match (PS3.19). No match: 200 [].
 * Order of matches: see main/store/searchIndex.ts.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DicomJsonDataset } from '../dicom/types.js';
import { datasetToXml } from '../dicom/xml.js';
import { parseUid } from '../http/validate.js';
import type { SearchLevel } from '../store/searchTypes.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, type DicomWebContext, type Transaction } from './context.js';
import { MultipartWriter, multipartStream, type OutgoingPart } from './multipart.js';
import { parseQidoQuery, type QueryParams } from './qidoQuery.js';
import { answerDataset, answerPlan, requiredAttributes, writeAnswer } from './qidoAnswers.js';
import { jsonArrayChunks, sendChunks } from './utf8Chunks.js';
import { stringifyDataset } from '../dicom/datasetJson.js';

const JSON_OFFER: Offer = { mediaType: 'application/dicom+json', aliases: ['application/json'] };
const XML_OFFER: Offer = { mediaType: 'multipart/related', partType: 'application/dicom+xml', aliases: ['application/xml', 'text/xml'] };

function* xmlParts(datasets: Iterable<DicomJsonDataset>): Generator<OutgoingPart> {
  for (const ds of datasets) {
    yield { headers: { 'Content-Type': 'application/dicom+xml; charset=utf-8' }, body: Buffer.from(datasetToXml(ds), 'utf8') };
  }
}

async function search(level: SearchLevel, request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext): Promise<FastifyReply | void> {
  const params = request.params as { study?: string; series?: string };
  const scope = {
    study: params.study === undefined ? undefined : parseUid(params.study, 'StudyInstanceUID in the URL'),
    series: params.series === undefined ? undefined : parseUid(params.series, 'SeriesInstanceUID in the URL'),
  };
  const query = parseQidoQuery(level, (request.query ?? {}) as QueryParams, {
    studyInstanceUID: scope.study,
    seriesInstanceUID: scope.series,
  });
  const { offer, range } = negotiate(requestAccept(request), [JSON_OFFER, XML_OFFER], `QIDO-RS ${request.url.split('?')[0]}`);

  const base = dicomWebBaseUrl(request, ctx.config);
  const required = requiredAttributes(level, scope);
  const matches = ctx.store.search(query.search);
  function* answers(): Generator<DicomJsonDataset> {
    for (const m of matches) yield answerDataset(m, query, required, base);
  }

  if (offer === JSON_OFFER) {
    const type = range.mediaType === 'application/json' ? 'application/json' : 'application/dicom+json';
    reply.header('Content-Type', `${type}; charset=utf-8`);
    if (query.includeAll) {
      // includefield=all: each match's attributes differ, so each is built as a dataset.
      return sendChunks(request, reply, jsonArrayChunks(answers(), (ds, out) => out.put(stringifyDataset(ds))));
    }
    const plan = answerPlan(query, required, base);
    return sendChunks(request, reply, jsonArrayChunks(matches, (m, out) => writeAnswer(m, plan, out)));
  }
  const writer = new MultipartWriter('application/dicom+xml');
  return reply.type(writer.contentType).send(multipartStream(writer, xmlParts(answers())));
}

export const searchForStudies: Transaction = (request, reply, ctx) => search('study', request, reply, ctx);
export const searchForSeries: Transaction = (request, reply, ctx) => search('series', request, reply, ctx);
export const searchForInstances: Transaction = (request, reply, ctx) => search('instance', request, reply, ctx);
