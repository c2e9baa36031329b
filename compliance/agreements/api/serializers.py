from rest_framework import serializers

from compliance.agreements.models import (
    AgreementVersion,
    CategoryGrant,
    ClientComment,
    RetentionRule,
    SubProcessor,
    SubProcessorObjection,
)


class GrantOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategoryGrant
        fields = ["role", "category", "action"]


class RetentionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RetentionRule
        fields = ["category", "days"]


class ObjectionOutputSerializer(serializers.ModelSerializer):
    sub_processor = serializers.IntegerField(source="sub_processor_id", read_only=True)
    raised_by = serializers.CharField(source="raised_by.username", read_only=True)

    class Meta:
        model = SubProcessorObjection
        fields = ["id", "sub_processor", "reason", "raised_by", "raised_at", "resolution", "resolved_at"]


class SubProcessorOutputSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    objection_window_ends = serializers.DateField(read_only=True)
    objection_window_open = serializers.SerializerMethodField()
    objection = ObjectionOutputSerializer(read_only=True, allow_null=True, default=None)

    class Meta:
        model = SubProcessor
        fields = [
            "id",
            "name",
            "purpose",
            "location",
            "services",
            "regions",
            "categories",
            "version",
            "authorised_on",
            "objection_window_days",
            "objection_window_ends",
            "objection_window_open",
            "objection",
        ]

    def get_objection_window_open(self, sub: SubProcessor) -> bool:
        return sub.authorised_on <= self.context["today"] < sub.objection_window_ends


class ClientCommentOutputSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = ClientComment
        fields = ["kind", "comment", "author", "created_at"]


class VersionOutputSerializer(serializers.ModelSerializer):
    grants = GrantOutputSerializer(many=True, read_only=True)
    retention_rules = RetentionOutputSerializer(many=True, read_only=True)
    sub_processors = SubProcessorOutputSerializer(many=True, read_only=True)  # nested fields share the root's context
    client_comments = ClientCommentOutputSerializer(many=True, read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = AgreementVersion
        fields = [
            "id",
            "number",
            "status",
            "in_force",
            "start_date",
            "end_date",
            "subject_matter",
            "nature_and_purpose",
            "data_subject_categories",
            "security_measures",
            "data_subject_rights_assistance",
            "end_of_processing",
            "audit_rights",
            "staff_confidentiality",
            "breach_notification_hours",
            "client_signed_by",
            "client_signed_at",
            "submitted_at",
            "approved_at",
            "activated_at",
            "rejection_reason",
            "ended_at",
            "end_reason",
            "grants",
            "retention_rules",
            "sub_processors",
            "client_comments",
        ]

    def get_in_force(self, version: AgreementVersion) -> bool:
        return version.in_force_on(self.context["today"])


class AgreementOutputSerializer(serializers.Serializer):
    active = VersionOutputSerializer(allow_null=True)
    awaiting_signature = VersionOutputSerializer(many=True)


class RejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000)


class ObjectionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
