#include "output/OutputDataset.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "geo/GdalRuntime.hpp"
#include "output/Antimeridian.hpp"
#include "output/GeoJsonWriter.hpp"

namespace riskmap {

struct OutputLayer {
    OGRLayer* ogr = nullptr;
    std::unique_ptr<GeoJsonWriter> json;
    bool lonLat = false;  // a geographic CRS: outlines are cut at the antimeridian
};

namespace {

std::string lowerExt(const std::string& path) {
    auto slash = path.rfind('/');
    auto dot = path.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string e = path.substr(dot + 1);
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e;
}

}  // namespace

OutputFormat outputFormatFor(const std::string& path) {
    std::string e = lowerExt(path);
    // "-o dir/.gpkg" wrote hidden files (.gpkg, .qml, .footprints.qml) beside it (an audit).
    const std::size_t slash = path.find_last_of('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (!e.empty() && name.size() == e.size() + 1)
        throw UsageError("output '" + path + "' has no name before its extension: give one, e.g. scan." + e);
    if (e == "geojson" || e == "json") return {"GeoJSON", true, false, true, "." + e};
    // GeoPackage has no list type: lists go in as JSON text (GDAL would write "(2:a,b)").
    if (e == "gpkg") return {"GPKG", false, true, false, ".gpkg"};
    if (e == "fgb") return {"FlatGeobuf", false, false, false, ".fgb"};
    throw UsageError("cannot tell the output format of '" + path + "': end it in .geojson, .gpkg or .fgb");
}

OutputDataset::OutputDataset(FileCommit& files, const std::string& path, bool replace, unsigned fileMode, int precision,
                             bool last)
    : format_(outputFormatFor(path)), path_(path), staged_(files.add(path, fileMode, replace, last)), precision_(precision) {
    if (format_.rfc7946) return;  // GeoJsonWriter creates the file with its layer
    ensureGdalRegistered();
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName(format_.driver.c_str());
    if (!drv) throw IoError("GDAL was built without the " + format_.driver + " driver");
    ds_ = drv->Create(staged_.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    if (!ds_) throw IoError("cannot create '" + staged_ + "': " + lastGdalError());
    if (ds_->TestCapability(ODsCTransactions)) ds_->StartTransaction();
}

OutputDataset::~OutputDataset() {
    layers_.clear();          // closes a GeoJSON file
    if (ds_) GDALClose(ds_);  // the FileCommit removes the staged file unless committed
}

std::size_t OutputDataset::indexBytes(const OutputFormat& format, std::size_t features, std::size_t bytes) {
    if (format.driver != "FlatGeobuf" || features == 0) return 0;
    constexpr std::size_t kBatch = std::size_t{100} << 20, kPerFeature = 256;
    return std::min(kBatch, bytes) + features * kPerFeature;
}

OutputLayer* OutputDataset::createLayer(const std::string& name, const std::string& srsWkt, OGRwkbGeometryType type,
                                        const std::vector<FieldSpec>& fields) {
    if (format_.rfc7946) {
        if (!layers_.empty()) throw Error("a GeoJSON file holds one layer (a writer bug)");
        auto l = std::make_unique<OutputLayer>();
        l->json = std::make_unique<GeoJsonWriter>(staged_, name, fields, precision_);
        layers_.push_back(std::move(l));
        return layers_.back().get();
    }
    OGRSpatialReference srs;
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const OGRErr err = srsWkt.empty() ? srs.importFromEPSG(4326) : srs.importFromWkt(srsWkt.c_str());
    if (err != OGRERR_NONE || srs.IsEmpty())
        throw UsageError("the CRS of layer '" + name + "' is not one PROJ knows: give --out-crs as EPSG:CODE, WKT or PROJJSON");
    const char* noIndex[] = {"SPATIAL_INDEX=NO", nullptr};
    OGRLayer* layer = ds_->CreateLayer(name.c_str(), &srs, type, spatialIndex() ? nullptr : const_cast<char**>(noIndex));
    if (!layer) throw IoError("cannot create layer '" + name + "' in '" + staged_ + "': " + lastGdalError());
    for (const auto& f : fields) {
        const bool asJson = f.type == OFTStringList && !format_.listFields;
        OGRFieldDefn fd(f.name.c_str(), asJson ? OFTString : f.type);
        fd.SetSubType(asJson ? OFSTJSON : f.subType);
        if (layer->CreateField(&fd) != OGRERR_NONE) throw IoError("cannot create field '" + f.name + "': " + lastGdalError());
    }
    auto l = std::make_unique<OutputLayer>();
    l->ogr = layer;
    l->lonLat = srs.IsGeographic();
    layers_.push_back(std::move(l));
    return layers_.back().get();
}


bool OutputDataset::writesText(const OutputLayer* layer) const { return layer->json != nullptr; }

void OutputDataset::createNow(OutputLayer* layer) {
    if (!layer->ogr || !ds_->GetDriver() ||
        std::string(ds_->GetDriver()->GetDescription()) != "GPKG")
        return;
    if (layer->ogr->SyncToDisk() != OGRERR_NONE)
        throw IoError("cannot create layer '" + std::string(layer->ogr->GetName()) + "' in '" +
                      staged_ + "': " + lastGdalError());
}

std::string OutputDataset::featureText(const OutputLayer* layer, const MapPolygons& parts,
                                       const std::vector<std::pair<std::string, FieldValue>>& values,
                                       const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) const {
    if (!layer->json) throw Error("featureText on a layer that is not GeoJSON (a writer bug)");
    return layer->json->feature(parts, values, lists);
}

void OutputDataset::appendFeatureText(OutputLayer* layer, const std::string& text) {
    if (!layer->json) throw Error("appendFeatureText on a layer that is not GeoJSON (a writer bug)");
    layer->json->append(text);
}

void OutputDataset::writeFeature(OutputLayer* out, const MapPolygons& parts,
                                 const std::vector<std::pair<std::string, FieldValue>>& values,
                                 const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) {
    if (out->json) {
        out->json->write(parts, values, lists);
        return;
    }
    OGRLayer* layer = out->ogr;
    OGRFeature feat(layer->GetLayerDefn());
    for (const auto& [name, v] : values) {
        switch (v.index()) {
            case 0: feat.SetField(name.c_str(), static_cast<GIntBig>(std::get<std::int64_t>(v))); break;
            case 1: feat.SetField(name.c_str(), std::get<double>(v)); break;
            case 2: feat.SetField(name.c_str(), std::get<std::string>(v).c_str()); break;
            default: feat.SetField(name.c_str(), std::get<bool>(v) ? 1 : 0); break;
        }
    }
    for (const auto& [name, items] : lists) {
        if (format_.listFields) {
            CPLStringList l;
            for (const auto& s : items) l.AddString(s.c_str());
            feat.SetField(name.c_str(), l.List());
        } else {
            Json arr = Json::array();
            for (const auto& s : items) arr.push_back(s);
            feat.SetField(name.c_str(), dumpJson(arr).c_str());
        }
    }
    const bool cut = out->lonLat && needsWrap(parts);
    std::unique_ptr<OGRMultiPolygon> multi =
        toMultiPolygon(cut ? splitAtAntimeridian(parts) : parts);
    feat.SetGeometry(multi.get());  // typed formats get one geometry type
    if (layer->CreateFeature(&feat) != OGRERR_NONE)
        throw IoError("writing a feature to '" + staged_ + "' failed: " + lastGdalError());
}

void OutputDataset::setDefaultStyle(const std::string& layerName, const std::string& styleName, const std::string& qml) {
    if (!format_.multiLayer) return;
    if (!styles_) {
        // The table and columns QGIS reads styles from (QgsOgrProvider's layer_styles).
        styles_ = ds_->CreateLayer("layer_styles", nullptr, wkbNone, nullptr);
        if (!styles_) throw IoError("cannot create the layer_styles table: " + lastGdalError());
        for (const char* n : {"f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                              "styleQML", "styleSLD", "description", "owner", "ui"}) {
            OGRFieldDefn fd(n, OFTString);
            styles_->CreateField(&fd);
        }
        OGRFieldDefn def("useAsDefault", OFTInteger);
        def.SetSubType(OFSTBoolean);
        styles_->CreateField(&def);
        OGRFieldDefn upd("update_time", OFTDateTime);
        styles_->CreateField(&upd);
    }
    OGRLayer* target = ds_->GetLayerByName(layerName.c_str());
    OGRFeature f(styles_->GetLayerDefn());
    f.SetField("f_table_catalog", "");
    f.SetField("f_table_schema", "");
    f.SetField("f_table_name", layerName.c_str());
    f.SetField("f_geometry_column", target && target->GetGeometryColumn() && *target->GetGeometryColumn()
                                        ? target->GetGeometryColumn()
                                        : "geom");
    f.SetField("styleName", styleName.c_str());
    f.SetField("styleQML", qml.c_str());
    f.SetField("styleSLD", "");
    f.SetField("useAsDefault", 1);
    f.SetField("description", "written by riskmap");
    f.SetField("owner", "");
    f.SetField("ui", "");
    // A fixed time keeps the file reproducible; QGIS only uses it to sort styles.
    f.SetField("update_time", 2000, 1, 1, 0, 0, 0.0f, 100);
    if (styles_->CreateFeature(&f) != OGRERR_NONE) throw IoError("cannot store the style of '" + layerName + "'");
}

void OutputDataset::finish() {
    if (format_.rfc7946) {
        // A GeoJSON file without a layer is still a valid, empty collection.
        if (layers_.empty()) createLayer("features", "", wkbMultiPolygon, {});
        layers_.front()->json->finish();
        return;
    }
    if (!ds_) return;
    if (ds_->TestCapability(ODsCTransactions) && ds_->CommitTransaction() != OGRERR_NONE)
        throw IoError("committing '" + staged_ + "' failed: " + lastGdalError());
    CPLErrorReset();
    GDALClose(ds_);
    ds_ = nullptr;
    if (CPLGetLastErrorType() == CE_Failure) throw IoError("closing '" + staged_ + "' failed: " + lastGdalError());
}

}  // namespace riskmap
