"""API views: thin, over catalog.selectors / catalog.inference."""
from __future__ import annotations

import numpy as np
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import inference, selectors
from catalog.balmer import BALMER_COLUMNS
from catalog.ingest.records import BadInput
from catalog.model_config import ConfigError
from catalog.models import ModelVersion, Star, TrainingRun
from portal import spectrum_files, uploads
from portal.api import filters
from portal.api.pagination import StarPagination
from portal.api.renderers import CSVRenderer, ECSVRenderer, FITSRenderer, TarballRenderer, VOTableRenderer
from portal.api.serializers import (
    BHBCandidateSerializer, ChemicalGroupSerializer, ErrorSerializer, GroupMemberSerializer, PeculiarStarSerializer, GeneratedSpectrumSerializer, LabelsSerializer, ModelVersionSerializer,
    SpectrumMetaSerializer, SpectrumResponseSerializer, StarDetailSerializer, StarSerializer, TrainingRunCreateSerializer,
    TrainingRunSerializer, TwinsResponseSerializer,
)
from portal.api.throttling import LoginThrottle, token_expired

TABLE_RENDERERS = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, VOTableRenderer]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def serializer_columns(serializer) -> dict[str, type]:
    """{field name: int | float | str | bool} of a serializer's fields, in order (an export's schema)."""
    from rest_framework import serializers

    kinds = ((serializers.BooleanField, bool), (serializers.IntegerField, int), (serializers.FloatField, float))
    return {name: next((kind for cls, kind in kinds if isinstance(field, cls)), str) for name, field in serializer.fields.items()}


def _finite_list(values: np.ndarray) -> list:
    """The values as JSON numbers, null where not finite (JSON has no NaN: a bad pixel)."""
    values = np.asarray(values)
    listed = values.astype(object)
    listed[~np.isfinite(values)] = None
    return listed.tolist()


def _twin_rows(result) -> list[dict]:
    return [{"star_id": t.star_id, "designation": t.designation, "spectrum_id": t.spectrum_id, "survey": t.survey,
             "distance": t.distance, "teff": t.teff, "logg": t.logg, "fe_h": t.fe_h, "alpha_fe": t.alpha_fe}
            for t in result.rows]


def _twin_response(result, query: dict) -> dict:
    return {"model_version": result.version.pk, "plan": result.plan, "query": query,
            "latent": [round(float(v), 6) for v in result.query_latent], "count": len(result.rows),
            "outside_training_range": result.outside_training_range, "beyond_range": result.beyond_range,
            "nearest_distance": result.nearest_distance, "unlike_catalog": result.unlike_catalog,
            "warnings": result.warnings,
            "twins": _twin_rows(result)}  # plain dicts: the hot path skips DRF field serialisation


def _star_twins(pk: str, k: int, twin_filters) -> selectors.TwinResult:
    """The twins of the star ``pk`` (from the URL); 404 for no such star, 409 where there are none to find."""
    try:
        return selectors.twins_for_star_id(star_id=int(pk) if pk.isdigit() and len(pk) < 19 else -1, k=k, filters=twin_filters)
    except Star.DoesNotExist:
        raise NotFound("No Star matches the given query.") from None
    except selectors.TwinSearchError as error:
        raise Conflict(str(error)) from None


STAR_PARAMETERS = [
    OpenApiParameter("q", str, description="designation prefix, APOGEE id, Gaia source_id or SDSS plate-mjd-fiber (at most 100 characters)"),
    OpenApiParameter("ra", str, description="cone centre RA: deg or sexagesimal hours"),
    OpenApiParameter("dec", str, description="cone centre Dec: deg or sexagesimal"),
    OpenApiParameter("radius", str, description="cone radius: deg (or 30s, 2m), at most 10 deg"),
    *[OpenApiParameter(f"{name}_{end}", float) for name in ("teff", "logg", "fe_h") for end in ("min", "max")],
    OpenApiParameter("survey", str, description="apogee, gaia_rvs or sdss"),
    OpenApiParameter("ordering", str, description="designation, ra, dec, teff, logg, fe_h, bhb_score, distance; '-' descends"),
]
TWIN_PARAMETERS = [
    OpenApiParameter("k", int, description="1–100 (default 10)"),
    *[OpenApiParameter(f"{name}_{end}", float) for name in ("teff", "logg") for end in ("min", "max")],
    OpenApiParameter("survey", str), OpenApiParameter("exclude_same_group", bool), OpenApiParameter("include_self", bool),
]


class StarViewSet(viewsets.ReadOnlyModelViewSet):
    """Stars: search by identifier, cone or parameter ranges; spectra; twins; generated spectra."""

    serializer_class = StarSerializer
    renderer_classes = TABLE_RENDERERS
    queryset = Star.objects.none()

    pagination_class = StarPagination

    def get_queryset(self):
        if self.action == "list":
            try:
                query = filters.star_query(self.request.query_params)
                self.paginator.order = query.order  # keyset pages follow the search's sort
                return selectors.stars_search(query)
            except selectors.StarQueryError as error:
                raise ValidationError({"query": str(error)}) from None
        if self.action == "retrieve":
            return selectors.with_parameters(Star.objects.all())
        return Star.objects.all()  # twins, spectrum, generate: no per-star parameter subqueries (hot path)

    @extend_schema(parameters=STAR_PARAMETERS, responses={200: StarSerializer(many=True), 400: ErrorSerializer})
    def list(self, request, *args, **kwargs):
        if self.paginator.exporting(request):
            queryset = self.get_queryset()
            columns = serializer_columns(StarSerializer())
            if "distance" in queryset.query.annotations:
                columns["distance"] = float  # deg from the cone's centre
            return self.paginator.export(queryset, request, to_row=StarSerializer().to_representation,
                                         columns=columns, filename="doppel-stars")
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: StarDetailSerializer, 404: ErrorSerializer})
    def retrieve(self, request, *args, **kwargs):
        star = self.get_object()
        data = StarSerializer(star).data
        data["labels"] = LabelsSerializer(selectors.star_labels(star), many=True).data
        data["spectra"] = SpectrumMetaSerializer(selectors.star_spectra(star), many=True).data
        data["images"] = [{"id": i.pk, "bands": i.bands, "height": i.height, "width": i.width, "pixel_scale": i.pixel_scale,
                           "source_file": i.source_file} for i in selectors.star_images(star)]
        return Response(data)

    @extend_schema(parameters=[OpenApiParameter("survey", str),
                               OpenApiParameter("format", str, enum=["json", "fits", "ecsv"],
                                                description="json (default), or a file: FITS binary table or ECSV")],
                   responses={(200, "application/json"): SpectrumResponseSerializer,
                              (200, "application/fits"): OpenApiTypes.BINARY, (200, "text/x-ecsv"): OpenApiTypes.STR,
                              400: ErrorSerializer, 404: ErrorSerializer})
    @action(detail=True, renderer_classes=[JSONRenderer, BrowsableAPIRenderer, FITSRenderer, ECSVRenderer])
    def spectrum(self, request, pk=None):
        """The star's spectrum (the first of ``survey``, or its first): wavelength Å (vacuum), flux
        and 1σ error; ``?format=fits`` or ``ecsv`` for a file (``portal.spectrum_files``)."""
        filters.reject_unknown(request.query_params, {"survey"})
        star = self.get_object()
        spectra = [s for s in selectors.star_spectra(star) if s.survey.code == request.query_params.get("survey", s.survey.code)]
        if not spectra:
            raise ValidationError({"survey": "this star has no spectrum from that survey"})
        fmt = request.accepted_renderer.format
        if fmt in spectrum_files.FORMATS:
            spectra[0].star = star
            record = spectrum_files.record_of(spectra[0])
            return Response(spectrum_files.encode(record, fmt), headers={
                "Content-Disposition": f'attachment; filename="{spectrum_files.file_name(record, fmt)}"'})
        arrays = selectors.spectrum_arrays(spectra[0])
        files = {name: request.build_absolute_uri(f"{request.path}?survey={arrays['survey']}&format={name}")
                 for name in spectrum_files.FORMATS}
        return Response({
            "star": star.designation, "spectrum_id": spectra[0].pk, "survey": arrays["survey"], "air_or_vacuum": "vacuum",
            "units": {"wavelength": "Angstrom", "flux": arrays["unit"], "error": arrays["unit"]},
            "wavelength": np.round(arrays["wavelength"], 4).tolist(), "flux": _finite_list(arrays["flux"]),
            "error": None if arrays["error"] is None else _finite_list(arrays["error"]), "files": files})

    @extend_schema(parameters=TWIN_PARAMETERS, responses={200: TwinsResponseSerializer, 400: ErrorSerializer,
                                                          404: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True)
    def twins(self, request, pk=None):
        """The k nearest stars in the active disentangled latent space (L2), with optional filters."""
        k, twin_filters = filters.twin_query(request.query_params)
        result = _star_twins(pk, k, twin_filters)
        return Response(_twin_response(result, {"star": result.query_star.designation, "k": k}))

    @extend_schema(parameters=[*TWIN_PARAMETERS, OpenApiParameter("files", str, enum=["fits", "ecsv"],
                                                                   description="the spectra's format (default fits)")],
                   responses={(200, "application/gzip"): OpenApiTypes.BINARY, 400: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, url_path="twins/spectra", renderer_classes=[TarballRenderer])
    def twins_spectra(self, request, pk=None):
        """The spectra of the star and of its twins (the spectra whose latents matched) as a
        .tar.gz of FITS (or ECSV) files with a ``twins.ecsv`` index; the twins' parameters as for
        ``twins/``."""
        params = request.query_params.copy()
        fmt = params.pop("files", ["fits"])[-1]
        if fmt not in spectrum_files.FORMATS:
            raise ValidationError({"files": f"use fits or ecsv, not {fmt!r}"})
        k, twin_filters = filters.twin_query(params)
        result = _star_twins(pk, k, twin_filters)
        rows = _twin_rows(result)
        spectra = selectors.spectra_by_id([result.query_spectrum_id] + [row["spectrum_id"] for row in rows])
        query = spectrum_files.record_of(spectra[result.query_spectrum_id])
        twins = [(spectrum_files.record_of(spectra[row["spectrum_id"]]), row) for row in rows]
        return Response(spectrum_files.twins_tarball(query, twins, fmt), headers={
            "Content-Disposition": f'attachment; filename="doppel-twins-{spectrum_files.safe_name(query.designation)}.tar.gz"'})

    @extend_schema(parameters=[OpenApiParameter("teff", float), OpenApiParameter("logg", float),
                               OpenApiParameter("fe_h", float), OpenApiParameter("alpha_fe", float)],
                   responses={200: GeneratedSpectrumSerializer, 400: ErrorSerializer, 409: ErrorSerializer})
    @action(detail=True, renderer_classes=[JSONRenderer, BrowsableAPIRenderer])
    def generate(self, request, pk=None):
        """The decoder's spectrum of this star at other parameters (its latent z kept)."""
        filters.reject_unknown(request.query_params, {"teff", "logg", "fe_h", "alpha_fe"})
        star = self.get_object()
        wanted = {name: filters.number(request.query_params, name) for name in ("teff", "logg", "fe_h", "alpha_fe")}
        try:
            generated = inference.generate_at(star, {k: v for k, v in wanted.items() if v is not None})
        except inference.NoActiveModel as error:
            raise Conflict(str(error)) from None
        except inference.InferenceError as error:  # the star cannot be encoded (no labels, no spectrum)
            raise ValidationError({"star": str(error)}) from None
        return Response({"star": star.designation, "model_version": generated.version_id,
                         "parameters": generated.parameters, "outside_training_range": generated.outside_training_range,
                         "training_range": generated.training_range, "units": {"wavelength": "Angstrom", "flux": "normalised"},
                         "wavelength": np.round(generated.wavelength, 4).tolist(),
                         "flux": np.round(generated.flux, 5).tolist()})


class TwinUploadView(APIView):
    """POST a FITS spectrum (multipart ``file``) with its ``teff``/``logg`` (if the file lacks them)
    and get its k nearest stars under the active model."""

    parser_classes = [MultiPartParser, FormParser]
    renderer_classes = TABLE_RENDERERS
    permission_classes = [permissions.AllowAny]

    @extend_schema(request={"multipart/form-data": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "teff": {"type": "number"}, "logg": {"type": "number"},
        "k": {"type": "integer"}}}}, responses={200: TwinsResponseSerializer, 400: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": uploads.refused(request) or "attach a FITS file as 'file'"})
        unknown = sorted(set(request.data) - {"file", "teff", "logg", "fe_h", "alpha_fe", "k", *filters.TWIN_PARAMETERS})
        if unknown:
            raise ValidationError({"unknown_parameters": unknown})
        k, twin_filters = filters.twin_query({key: value for key, value in request.data.items() if key != "file"
                                              and key not in ("teff", "logg", "fe_h", "alpha_fe")})
        try:
            found = inference.twins_for_upload(upload, k=k, filters=twin_filters, given={
                n: filters.number(request.data, n) for n in ("teff", "logg", "fe_h", "alpha_fe")})
        except BadInput as error:
            raise ValidationError({"file": str(error)}) from None
        except inference.NoActiveModel as error:
            raise Conflict(str(error)) from None
        except (inference.InferenceError, selectors.TwinSearchError) as error:
            raise ValidationError({"spectrum": str(error)}) from None
        return Response(_twin_response(found.result, {"file": found.spectrum.name, "parameters": found.parameters, "k": k}))


class BHBCandidateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stars by BHB score (active BATMM), best first; ``threshold`` (default 0.5). Each row carries the
    Balmer lines of the star's first SDSS spectrum: d02 (Å), fm, c, b (Å) and xue_bhb, whether the
    Xue et al. 2011 cuts select it (null where unmeasured)."""

    renderer_classes = TABLE_RENDERERS
    serializer_class = StarSerializer

    def get_queryset(self):
        filters.reject_unknown(self.request.query_params, {"threshold"})
        threshold = filters.number(self.request.query_params, "threshold")
        threshold = 0.5 if threshold is None else threshold
        if not 0.0 <= threshold <= 1.0:
            raise ValidationError({"threshold": "must be between 0 and 1"})
        return selectors.bhb_candidates(threshold=threshold)

    @extend_schema(parameters=[OpenApiParameter("threshold", float, description="minimum P(BHB), 0–1")],
                   responses={200: BHBCandidateSerializer(many=True), 400: ErrorSerializer})
    def list(self, request, *args, **kwargs):
        if self.paginator.exporting(request):
            return self.paginator.export(self.get_queryset(), request, to_row=self._row, columns=self.COLUMNS,
                                         filename="doppel-bhb-candidates")
        return self.get_paginated_response([self._row(score) for score in self.paginate_queryset(self.get_queryset())])

    COLUMNS = {"star_id": int, "designation": str, "ra": float, "dec": float, "score": float, "model_version": int,
               "d02": float, "fm": float, "c": float, "b": float, "xue_bhb": bool}

    @staticmethod
    def _row(score) -> dict:
        return {"star_id": score.star_id, "designation": score.star.designation, "ra": score.star.ra, "dec": score.star.dec,
                "score": score.score, "model_version": score.model_version_id,
                **{name: getattr(score, name) for name in BALMER_COLUMNS}}


class PeculiarStarViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Spectra by peculiarity under the active disentangler, most peculiar first: how far what its
    decoder cannot explain in a spectrum (its residual) sits from the 20 nearest residuals, over how
    far they sit from theirs (1 ordinary). Filters: min_score, survey, teff_min/max, logg_min/max."""

    renderer_classes = TABLE_RENDERERS
    serializer_class = PeculiarStarSerializer
    COLUMNS = {"star_id": int, "designation": str, "spectrum_id": int, "survey": str, "score": float, "teff": float,
               "logg": float, "model_version": int}

    def get_queryset(self):
        return selectors.peculiar_stars(**filters.peculiar_query(self.request.query_params))

    @staticmethod
    def _row(item) -> dict:
        return {"star_id": item.star_id, "designation": item.star.designation, "spectrum_id": item.spectrum_id,
                "survey": item.spectrum.survey.code, "score": item.score, "teff": item.teff, "logg": item.logg,
                "model_version": item.model_version_id}

    @extend_schema(parameters=[OpenApiParameter("min_score", float, description="lowest score (1 = ordinary)"),
                               OpenApiParameter("survey", str),
                               *[OpenApiParameter(f"{name}_{end}", float) for name in ("teff", "logg") for end in ("min", "max")]],
                   responses={200: PeculiarStarSerializer(many=True), 400: ErrorSerializer})
    def list(self, request, *args, **kwargs):
        if self.paginator.exporting(request):
            return self.paginator.export(self.get_queryset(), request, to_row=self._row, columns=self.COLUMNS,
                                         filename="doppel-peculiar-stars")
        return self.get_paginated_response([self._row(item) for item in self.paginate_queryset(self.get_queryset())])


class ChemicalGroupViewSet(viewsets.GenericViewSet):
    """Chemical groups of the active disentangler (HDBSCAN of its latents), largest first, with
    their Teff and logg span (a good chemical group spans a wide one); ``{group}/members/`` lists a
    group's stars, strongest members first (paginated; ``?format=csv|votable`` streams them all)."""

    renderer_classes = TABLE_RENDERERS
    serializer_class = GroupMemberSerializer
    lookup_value_regex = r"\d+"  # group numbers
    MEMBER_COLUMNS = {"star_id": int, "designation": str, "spectrum_id": int, "survey": str, "group": int,
                      "probability": float, "teff": float, "logg": float}

    @extend_schema(responses={200: ChemicalGroupSerializer(many=True)})
    def list(self, request):
        filters.reject_unknown(request.query_params, set())
        return Response(selectors.chemical_groups())

    @staticmethod
    def _member(item) -> dict:
        return {"star_id": item.star_id, "designation": item.star.designation, "spectrum_id": item.spectrum_id,
                "survey": item.spectrum.survey.code, "group": item.group, "probability": item.probability,
                "teff": item.teff, "logg": item.logg}

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="group number, 0 the largest")],
                   responses={200: GroupMemberSerializer(many=True), 404: ErrorSerializer})
    @action(detail=True)
    def members(self, request, pk=None):
        filters.reject_unknown(request.query_params, set())
        try:
            group = int(pk)
        except ValueError:
            raise NotFound("no such group") from None
        members = selectors.group_members(group)
        if not members.exists():
            raise NotFound(f"there is no group {group} under the active disentangler")
        if self.paginator.exporting(request):
            return self.paginator.export(members, request, to_row=self._member, columns=self.MEMBER_COLUMNS,
                                         filename=f"doppel-group-{group}")
        return self.get_paginated_response([self._member(item) for item in self.paginate_queryset(members)])


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Model versions with their metrics and state (read-only)."""

    serializer_class = ModelVersionSerializer
    queryset = ModelVersion.objects.order_by("-created_at")


class IsStaffForWrites(permissions.BasePermission):
    message = "starting a training run needs a staff account with the change_modelversion permission"

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("catalog.change_modelversion"))


class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Training runs (progress, losses, timings). POST {kind, config} starts a retrain (staff)."""

    queryset = TrainingRun.objects.select_related("model_version").order_by("-id")
    permission_classes = [IsStaffForWrites]

    def get_serializer_class(self):
        return TrainingRunCreateSerializer if self.action == "create" else TrainingRunSerializer

    @extend_schema(request=TrainingRunCreateSerializer, responses={201: TrainingRunSerializer})
    def create(self, request, *args, **kwargs):
        from tasks.pipeline import start_retrain

        payload = TrainingRunCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            version = start_retrain(kind=payload.validated_data["kind"], config=payload.validated_data["config"],
                                    created_by=request.user)
        except ConfigError as error:
            raise ValidationError({"config": str(error)}) from None
        return Response(TrainingRunSerializer(version.latest_run, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class _JSONOnly(BaseContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return None


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Any path under /api/ that names nothing: 404 in the API's JSON error shape, whatever the
    client accepts."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JSONOnly

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound(f"no API endpoint at {request.path}; see /api/docs/")


class TokenView(ObtainAuthToken):
    """POST username and password, get an API token (``Authorization: Token …``). Throttled per client
    (``DOPPEL_LOGIN_RATE``); a token past ``DOPPEL_API_TOKEN_TTL_S`` is replaced by a fresh one."""

    throttle_classes = [LoginThrottle]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})
