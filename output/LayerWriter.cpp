#include "output/LayerWriter.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>

#include "core/Error.hpp"
#include "core/Json.hpp"
#include "raster/GdalRuntime.hpp"

namespace riskmap {

namespace {

std::string lowerExt(const std::string& path) {
    auto slash = path.rfind('/');
    auto dot = path.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string e = path.substr(dot + 1);
    std::transform(e.begin(), e.end(), e.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e;
}

std::string stemOf(const std::string& path) {
    auto slash = path.rfind('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    auto dot = name.rfind('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

OGRFieldType fieldType(AttributeType t) {
    switch (t) {
        case AttributeType::Int: return OFTInteger64;
        case AttributeType::Double: return OFTReal;
        case AttributeType::String: return OFTString;
        case AttributeType::Bool: return OFTInteger;
    }
    return OFTString;
}

}  // namespace

OutputFormat outputFormatFor(const std::string& path) {
    std::string e = lowerExt(path);
    if (e == "geojson" || e == "json") return {"GeoJSON", true};
    if (e == "gpkg") return {"GPKG", false};
    if (e == "fgb") return {"FlatGeobuf", false};
    throw UsageError("cannot tell the output format of '" + path +
                     "': end it in .geojson, .gpkg or .fgb");
}

LayerWriter::LayerWriter(Options options)
    : options_(std::move(options)),
      format_(outputFormatFor(options_.path)),
      file_(options_.path, options_.overwrite, options_.fileMode) {
    ensureGdalRegistered();
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName(format_.driver.c_str());
    if (!drv) throw IoError("GDAL was built without the " + format_.driver + " driver");
    ds_ = drv->Create(file_.tempPath().c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    if (!ds_) throw IoError("cannot create '" + file_.tempPath() + "': " + lastGdalError());

    OGRSpatialReference srs;
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (format_.rfc7946 || options_.crsWkt.empty())
        srs.importFromEPSG(4326);
    else
        srs.importFromWkt(options_.crsWkt.c_str());

    CPLStringList lco;
    if (format_.rfc7946) {
        lco.SetNameValue("RFC7946", "YES");
        lco.SetNameValue("COORDINATE_PRECISION", std::to_string(options_.coordinatePrecision).c_str());
        lco.SetNameValue("WRITE_BBOX", "NO");
    }
    // The layer is named after the detector, not the file, so that the same scan written under
    // two names (a merge of shards and a single run, say) gives the same bytes.
    layer_ = ds_->CreateLayer(options_.layerName.empty() ? stemOf(options_.path).c_str() : options_.layerName.c_str(), &srs,
                              format_.rfc7946 ? wkbUnknown : wkbMultiPolygon, lco.List());
    if (!layer_) throw IoError("cannot create a layer in '" + file_.tempPath() + "': " + lastGdalError());

    auto addField = [&](const std::string& name, OGRFieldType type, bool boolean = false) {
        OGRFieldDefn fd(name.c_str(), type);
        if (boolean) fd.SetSubType(OFSTBoolean);
        if (layer_->CreateField(&fd) != OGRERR_NONE)
            throw IoError("cannot create field '" + name + "': " + lastGdalError());
    };
    addField("id", OFTString);
    addField("detector", OFTString);
    addField("class", OFTString);
    addField("score", OFTReal);
    addField("area_m2", OFTReal);
    addField("source", OFTString);
    // FlatGeobuf has no list type: sources go in as a JSON array string there.
    addField("sources", format_.driver == "FlatGeobuf" ? OFTString : OFTStringList);
    for (const auto& a : options_.attributes)
        addField(a.name, fieldType(a.type), a.type == AttributeType::Bool);
    if (ds_->TestCapability(ODsCTransactions)) ds_->StartTransaction();
}

LayerWriter::~LayerWriter() {
    if (ds_) GDALClose(ds_);
    // file_ removes the temporary unless committed.
}

void LayerWriter::write(const FeatureRecord& f) {
    OGRFeature feat(layer_->GetLayerDefn());
    feat.SetField("id", f.id.c_str());
    feat.SetField("detector", f.detector.c_str());
    feat.SetField("class", f.cls.c_str());
    feat.SetField("score", f.score);
    feat.SetField("area_m2", f.areaM2);
    feat.SetField("source", f.source.c_str());
    if (format_.driver == "FlatGeobuf") {
        Json arr = Json::array();
        for (const auto& s : f.sources) arr.push(s);
        feat.SetField("sources", arr.dump().c_str());
    } else {
        CPLStringList list;
        for (const auto& s : f.sources) list.AddString(s.c_str());
        feat.SetField("sources", list.List());
    }
    for (std::size_t i = 0; i < f.attributes.size() && i < options_.attributes.size(); ++i) {
        const char* name = options_.attributes[i].name.c_str();
        const auto& v = f.attributes[i];
        switch (v.index()) {
            case 0: feat.SetField(name, static_cast<GIntBig>(std::get<std::int64_t>(v))); break;
            case 1: feat.SetField(name, std::get<double>(v)); break;
            case 2: feat.SetField(name, std::get<std::string>(v).c_str()); break;
            default: feat.SetField(name, std::get<bool>(v) ? 1 : 0); break;
        }
    }
    OGRMultiPolygon multi;
    for (const auto& part : f.parts) {
        OGRPolygon poly;
        for (const auto& ring : part) {
            OGRLinearRing r;
            for (const auto& p : ring) r.addPoint(p.x, p.y);
            r.closeRings();
            poly.addRing(&r);
        }
        multi.addGeometry(&poly);
    }
    // GeoJSON readers expect a Polygon for single-part objects; typed formats get one type.
    if (format_.rfc7946 && multi.getNumGeometries() == 1)
        feat.SetGeometry(multi.getGeometryRef(0));
    else
        feat.SetGeometry(&multi);
    if (layer_->CreateFeature(&feat) != OGRERR_NONE)
        throw IoError("writing a feature to '" + file_.tempPath() + "' failed: " + lastGdalError());
}

void LayerWriter::commit() {
    if (ds_->TestCapability(ODsCTransactions) && ds_->CommitTransaction() != OGRERR_NONE)
        throw IoError("committing '" + file_.tempPath() + "' failed: " + lastGdalError());
    CPLErrorReset();
    GDALClose(ds_);
    ds_ = nullptr;
    if (CPLGetLastErrorType() == CE_Failure)
        throw IoError("closing '" + file_.tempPath() + "' failed: " + lastGdalError());
    file_.commit();
}

}  // namespace riskmap
